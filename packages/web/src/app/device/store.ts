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

export interface HistoryEntry {
  readonly at: number;
  readonly service: string;
  readonly kind: 'auth' | 'sign';
  readonly result: string;
}

const HISTORY_KEY = 'tasdiq.history';

export function loadHistory(): HistoryEntry[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as HistoryEntry[];
  } catch {
    return [];
  }
}

export function addHistory(entry: HistoryEntry): HistoryEntry[] {
  const next = [entry, ...loadHistory()].slice(0, 50);
  try {
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
  } catch {
    // Shown for this visit only.
  }
  return next;
}
