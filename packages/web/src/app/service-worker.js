/* global self, caches, fetch, URL */
// The build replaces these two lines with the shell's hashed files and their digest.
const PRECACHE = [];
const VERSION = 'dev';
const CACHE = `tasdiq-app-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('tasdiq-app-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // API answers are live data (offices, later sign-in requests): never served from a cache.
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate' && url.pathname.startsWith('/app/')) {
    event.respondWith(fetch(request).catch(() => caches.match('/app/', { cacheName: CACHE })));
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: CACHE }).then((hit) => hit ?? fetch(request)));
  }
});

/*
 * Push: the server's wake is empty (no payload, nothing about the citizen or the request), so
 * the notification says no more than that a request waits, in words that fit a sign-in and a
 * signature alike; the app fetches it over the device protocol. Its language is the one the
 * citizen chose in the app, which the app keeps in IndexedDB for this worker.
 */
const NOTIFICATION_TEXT = {
  'uz-Latn': { title: 'Tasdiq', body: "Tasdiq ilovasida so'rovni tasdiqlang" },
  'uz-Cyrl': { title: 'Tasdiq', body: 'Tasdiq иловасида сўровни тасдиқланг' },
  ru: { title: 'Tasdiq', body: 'Подтвердите запрос в Tasdiq' },
  en: { title: 'Tasdiq', body: 'Confirm the request in Tasdiq' },
};

function chosenLocale() {
  return new Promise((resolve) => {
    let request;
    try {
      request = self.indexedDB.open('tasdiq-app', 1);
    } catch {
      resolve('uz-Latn');
      return;
    }
    request.onupgradeneeded = () => request.result.createObjectStore('settings');
    request.onerror = () => resolve('uz-Latn');
    request.onsuccess = () => {
      const db = request.result;
      try {
        const get = db.transaction('settings', 'readonly').objectStore('settings').get('locale');
        get.onsuccess = () => resolve(typeof get.result === 'string' && Object.hasOwn(NOTIFICATION_TEXT, get.result) ? get.result : 'uz-Latn');
        get.onerror = () => resolve('uz-Latn');
      } catch {
        resolve('uz-Latn');
      } finally {
        db.close();
      }
    };
  });
}

const WAKE = { type: 'tasdiq-wake' };

/** Tells every open app window to fetch its pending request now. */
async function wakeWindows(message) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.filter((w) => new URL(w.url).pathname.startsWith('/app/'));
  for (const w of app) w.postMessage(message);
  return app;
}

self.addEventListener('push', (event) => {
  event.waitUntil(
    (async () => {
      await wakeWindows(WAKE);
      const text = NOTIFICATION_TEXT[await chosenLocale()];
      // A push must show a notification (userVisibleOnly); one tag keeps a single one on screen.
      await self.registration.showNotification(text.title, {
        body: text.body,
        tag: 'tasdiq-request',
        renotify: true,
        requireInteraction: true,
        icon: '/app/icons/icon.svg',
      });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const open = await wakeWindows(WAKE);
      if (open.length > 0) {
        try {
          await open[0].focus();
        } catch {
          // Focus needs the click's user activation; the window was told to fetch either way.
        }
        return;
      }
      // Opening the app fetches the pending request on start.
      await self.clients.openWindow('/app/');
    })(),
  );
});
