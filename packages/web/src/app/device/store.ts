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
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result as T);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export const loadDevice = () => run<StoredDevice | undefined>('readonly', (s) => s.get(KEY));
export const saveDevice = (device: StoredDevice) => run<unknown>('readwrite', (s) => s.put(device, KEY));
export const forgetDevice = () => run<unknown>('readwrite', (s) => s.delete(KEY));

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
