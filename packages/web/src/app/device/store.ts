import type { DeviceState } from '@tasdiq/client';

/**
 * The activated device lives in IndexedDB: its WebCrypto keys are non-extractable CryptoKey
 * objects, which IndexedDB can hold (structured clone) without their private halves ever
 * being readable by script.
 */
export interface StoredDevice {
  readonly state: DeviceState;
  /** The passkey that gates every confirmation with the phone's PIN or biometrics. */
  readonly credentialId: string;
}

const DB_NAME = 'tasdiq-device';
const STORE = 'device';
const KEY = 'current';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB unavailable'));
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      // A write counts once committed, not when its request succeeds: a page closed in between
      // would lose it (and with it the counter the server has already seen).
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = () => reject(transaction.error ?? request.error ?? new Error('IndexedDB request failed'));
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/**
 * Writes go one after another. Each opens its own connection, so two started together could
 * otherwise commit in either order and leave an older counter stored over a newer one.
 */
let writes: Promise<unknown> = Promise.resolve();
function write(action: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
  const next = writes.then(() => run<unknown>('readwrite', action));
  writes = next.catch(() => undefined);
  return next;
}

export const loadDevice = () => run<StoredDevice | undefined>('readonly', (s) => s.get(KEY));
export const saveDevice = (device: StoredDevice) => write((s) => s.put(device, KEY));
export const forgetDevice = () => write((s) => s.delete(KEY));

/**
 * The language the citizen chose, kept where the service worker can read it: notifications
 * are written in it while the app is closed. Same database layout as the worker's reader.
 */
export async function saveAppLocale(locale: string): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('tasdiq-app', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('settings');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB unavailable'));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const transaction = db.transaction('settings', 'readwrite');
      transaction.objectStore('settings').put(locale, 'locale');
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB write failed'));
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB write aborted'));
    });
  } finally {
    db.close();
  }
}

/**
 * Whether this browser can keep the device's keys (private windows and full disks cannot), tried
 * before an activation code is spent: a non-extractable key is stored and removed again.
 */
export async function canStoreDevice(): Promise<boolean> {
  try {
    const probe = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    await write((s) => s.put({ probe }, 'probe'));
    await write((s) => s.delete('probe'));
    return true;
  } catch {
    return false;
  }
}
