import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { SessionClient } from '../../client/src/index.ts';
import { enrollCitizen } from '../../server/test/devices/enroll.ts';
import { activateApp, addVirtualAuthenticator, collectPageErrors, launchChromium, skipBrowser } from './support/browser.ts';
import { launchPushPhone, startFakeGcm, type FakeGcm } from './support/fake-gcm.ts';
import { startTestServer, type RunningTestServer } from './support/server.ts';

// Chromium names its push service's host in the subscription endpoint; the server accepts
// endpoints only on the push services it is configured with (TASDIQ_WEBPUSH_HOSTS).
process.env.TASDIQ_WEBPUSH_HOSTS = 'fcm.googleapis.com,*.google.com';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipBrowser)('citizen app woken by Web Push (Chromium, local GCM stand-in)', () => {
  let server: RunningTestServer;
  let gcm: FakeGcm;
  let profile: string;
  let rp: SessionClient;

  beforeAll(async () => {
    gcm = await startFakeGcm();
    profile = mkdtempSync(join(tmpdir(), 'tasdiq-push-profile-'));
    server = await startTestServer('sqlite');
    rp = new SessionClient(server.url);
  });

  afterAll(async () => {
    await server?.close();
    await gcm?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const db = () => server.app.context.db;

  async function activateIn(page: Page) {
    const citizen = await enrollCitizen(db(), server.url);
    await activateApp(page, server.url, await citizen.activationCode());
    const device = await db().selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).where('status', '=', 'active').executeTakeFirstOrThrow();
    return { citizen, deviceId: device.id };
  }

  /** The app's service worker, as Chromium runs it. */
  async function appWorker(context: BrowserContext): Promise<Worker> {
    const scope = `${server.url}/app/`;
    for (let i = 0; i < 50; i++) {
      const worker = context.serviceWorkers().find((w) => w.url().startsWith(scope));
      if (worker) return worker;
      await sleep(200);
    }
    throw new Error('the app registered no service worker');
  }

  /**
   * Delivers a wake (an empty push, as the server sends) to the app's service worker the way the
   * push service's connection would,
   * through the page's DevTools session (the one holding its virtual authenticator: a session
   * detached would take the authenticator with it).
   */
  async function deliverPush(cdp: CDPSession) {
    const scope = `${server.url}/app/`;
    const registrations = new Map<string, string>();
    const listener = (event: { registrations: ReadonlyArray<{ scopeURL: string; registrationId: string; isDeleted: boolean }> }) => {
      for (const r of event.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
    };
    cdp.on('ServiceWorker.workerRegistrationUpdated', listener);
    try {
      await cdp.send('ServiceWorker.enable');
      await expect.poll(() => registrations.get(scope), { timeout: 5000 }).toBeTruthy();
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: registrations.get(scope)!, data: '' });
    } finally {
      cdp.off('ServiceWorker.workerRegistrationUpdated', listener);
      await cdp.send('ServiceWorker.disable');
    }
  }

  /** The session's push went to this device through the outbox (the wake itself is empty). */
  async function expectWakeQueued(sessionId: string, deviceId: string) {
    const message = await db().selectFrom('notify_outbox').selectAll().where('correlation_id', '=', sessionId).where('channel', '=', 'push').executeTakeFirstOrThrow();
    expect(message).toMatchObject({ recipient: deviceId, kind: 'auth.open_app' });
  }

  const notifications = (worker: Worker) =>
    worker.evaluate<Array<{ title: string; body: string; tag: string }>>(
      'self.registration.getNotifications().then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag })))',
    );

  it('registers its subscription, sleeps without polling, and wakes on a push with a notification in the chosen language', { timeout: 120_000 }, async () => {
    const context = await launchPushPhone(gcm, profile);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors = collectPageErrors(page);
      const { cdp } = await addVirtualAuthenticator(context, page);
      const { citizen, deviceId } = await activateIn(page);

      // Permission was given: the app subscribes with the server's VAPID key and registers the target.
      const pushStatus = page.locator('#push-status');
      await expect.poll(() => pushStatus.textContent(), { timeout: 30_000 }).toBe("Bildirishnomalar yoqilgan: so'rovlar ilova yopiq bo'lsa ham keladi.");
      const config = (await (await fetch(`${server.url}/api/v1/device/push-config`)).json()) as { webPush: { applicationServerKey: string } | null };
      expect(gcm.registrations).toHaveLength(1);
      expect(gcm.registrations[0]!.sender).toBe(config.webPush!.applicationServerKey);
      const targets = await db().selectFrom('notify_push_targets').selectAll().where('device_id', '=', deviceId).execute();
      expect(targets.map((t) => t.kind)).toEqual(['webpush']);
      const subscription = JSON.parse(targets[0]!.address) as { endpoint: string; keys: { p256dh: string; auth: string } };
      expect(subscription.endpoint).toMatch(new RegExp(`^https://[a-z0-9.-]+/fcm/send/${gcm.registrations[0]!.token}$`));
      expect(Buffer.from(subscription.keys.p256dh, 'base64url')).toHaveLength(65);

      // Asleep: with pushes working, a new request is not fetched by a timer for a long while.
      await sleep(500); // the check made as pushes came on
      const pendingFetches: number[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/api/v1/device/requests/pending')) pendingFetches.push(Date.now());
      });
      const heading = page.getByRole('heading', { name: "Yangi so'rov" });
      const first = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
      await sleep(3000);
      expect(pendingFetches).toEqual([]);
      expect(await heading.isVisible()).toBe(false);

      // The push wakes it: the request is fetched over the device protocol and shown.
      const worker = await appWorker(context);
      await expectWakeQueued(first.sessionId, deviceId);
      await deliverPush(cdp);
      await expect.poll(() => heading.isVisible(), { timeout: 5000 }).toBe(true);
      expect(pendingFetches.length).toBeGreaterThan(0);
      expect(await notifications(worker)).toEqual([{ title: 'Tasdiq', body: "Tasdiq ilovasida so'rovni tasdiqlang", tag: 'tasdiq-request' }]);
      await page.getByRole('button', { name: first.verificationCode!, exact: true }).click();
      await expect.poll(async () => (await rp.result(first)).result, { timeout: 10_000 }).toBe('OK');

      // In Russian: the notification follows the app's language.
      await page.locator('.language select').selectOption('ru');
      await expect.poll(() => pushStatus.textContent()).toBe('Уведомления включены: запросы приходят, даже когда приложение закрыто.');
      await sleep(300); // the language is stored for the worker
      const second = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
      await expectWakeQueued(second.sessionId, deviceId);
      await deliverPush(cdp);
      const headingRu = page.getByRole('heading', { name: 'Новый запрос' });
      await expect.poll(() => headingRu.isVisible(), { timeout: 5000 }).toBe(true);
      expect(await notifications(worker)).toEqual([{ title: 'Tasdiq', body: 'Подтвердите запрос в Tasdiq', tag: 'tasdiq-request' }]);
      const fetchesBefore = pendingFetches.length;
      await page.getByRole('button', { name: 'Отклонить' }).click();
      await expect.poll(async () => (await rp.result(second)).result, { timeout: 10_000 }).toBe('USER_REFUSED');
      // Once an answer is sent the app looks for a next request at once; let that look be over
      // before the next sign-in starts, or it would find it without any push.
      await expect.poll(() => pendingFetches.length, { timeout: 5000 }).toBeGreaterThan(fetchesBefore);
      await sleep(500);

      // A click on the notification closes it and wakes the open app, which fetches the request.
      const third = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
      await sleep(1000);
      expect(await headingRu.isVisible()).toBe(false);
      await worker.evaluate(
        "self.registration.getNotifications({ tag: 'tasdiq-request' }).then(([n]) => self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n })))",
      );
      await expect.poll(() => headingRu.isVisible(), { timeout: 5000 }).toBe(true);
      expect(await notifications(worker)).toEqual([]);
      await page.getByRole('button', { name: third.verificationCode!, exact: true }).click();
      await expect.poll(async () => (await rp.result(third)).result, { timeout: 10_000 }).toBe('OK');

      // On the next start the app renews the same subscription: still one target, no new registration.
      await page.reload();
      await expect.poll(() => page.locator('#push-status').textContent(), { timeout: 30_000 }).toBe('Уведомления включены: запросы приходят, даже когда приложение закрыто.');
      expect(gcm.registrations).toHaveLength(1);
      expect((await db().selectFrom('notify_push_targets').select('id').where('device_id', '=', deviceId).execute()).map((t) => t.id)).toEqual([targets[0]!.id]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('explains and keeps checking while open when the browser cannot subscribe, or before the citizen allows it', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      // Allowed, but this (incognito) profile has no push service.
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, permissions: ['notifications'] });
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      await addVirtualAuthenticator(context, page);
      const { citizen, deviceId } = await activateIn(page);
      await expect
        .poll(() => page.locator('#push-status').textContent(), { timeout: 30_000 })
        .toBe("Brauzer bildirishnomalarni yoqa olmadi (push xizmatiga ulanib bo'lmadi). Ilova ochiq turganda so'rovlarni o'zi tekshiradi.");
      expect(await db().selectFrom('notify_push_targets').select('id').where('device_id', '=', deviceId).execute()).toEqual([]);
      // Chromium's own console line about incognito windows is not the app's error.
      const incognito = /does not support the Push API in incognito mode/;
      const started = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
      await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 5000 }).toBe(true);
      await page.getByRole('button', { name: started.verificationCode!, exact: true }).click();
      await expect.poll(async () => (await rp.result(started)).result, { timeout: 10_000 }).toBe('OK');
      expect(errors.filter((e) => !incognito.test(e))).toEqual([]);
      await context.close();

      // Not asked yet: the app explains why before the browser asks, and "not now" is respected.
      const fresh = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const other = await fresh.newPage();
      await addVirtualAuthenticator(fresh, other);
      await activateIn(other);
      const panel = other.getByRole('region', { name: 'Bildirishnomalar' });
      await expect.poll(() => panel.textContent(), { timeout: 10_000 }).toContain("Bildirishnomalarni yoqing: kirish so'rovi ilova yopiq bo'lsa ham telefoningizga yetib keladi.");
      expect(await panel.textContent()).toContain("siz haqingizda hech narsa push xizmati orqali o'tmaydi");
      expect(await panel.getByRole('button', { name: 'Bildirishnomalarni yoqish' }).getAttribute('aria-describedby')).toBe('push-ask');
      await panel.getByRole('button', { name: 'Hozir emas' }).click();
      await expect.poll(() => other.locator('#push-status').textContent()).toBe("Bildirishnomalar o'chiq. Ilova ochiq turganda so'rovlarni o'zi tekshiradi.");
      await expect.poll(() => other.evaluate<string | undefined>('document.activeElement?.id')).toBe('push-status');
      await fresh.close();
    } finally {
      await browser.close();
    }
  });
});
