import type { DeviceClient } from '@tasdiq/client';
import { fromBase64Url } from '@tasdiq/client';

/**
 * Where the app stands with Web Push:
 * - `on`: subscribed and registered with the server; requests wake the phone.
 * - `ask`: the browser has not been asked yet; the app explains before asking.
 * - `denied`: the citizen or the browser blocked notifications.
 * - `unsupported`: no service worker, Push API or notifications in this browser.
 * - `off`: the server sends no Web Push.
 * - `failed`: allowed, but the browser's push service could not be reached (or registering failed).
 * In every state but `on` the app checks for requests itself while it is open.
 */
export type PushState = 'on' | 'ask' | 'denied' | 'unsupported' | 'off' | 'failed';

export interface PushOutcome {
  readonly state: PushState;
  /** For `failed`: what went wrong (shown after the app's own sentence). */
  readonly error?: unknown;
}

/** A push service that never answers (no network, a blocked endpoint) must not hang the app. */
const SUBSCRIBE_TIMEOUT_MS = 20_000;
const WORKER_TIMEOUT_MS = 10_000;

export class PushTimeoutError extends Error {
  constructor(what: string) {
    super(`${what} timed out`);
    this.name = 'PushTimeoutError';
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PushTimeoutError(what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function pushSupported(): boolean {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function sameKey(subscription: PushSubscription, key: Uint8Array): boolean {
  const current = subscription.options.applicationServerKey;
  if (!current) return false;
  const bytes = new Uint8Array(current);
  return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
}

/**
 * Subscribes this browser to Web Push with the server's VAPID key and registers the
 * subscription as the device's push target. `ask`: whether the citizen just said yes to the
 * app's explanation, so the browser's permission prompt may be shown; otherwise (at start) the
 * app only renews what the citizen already allowed.
 */
export async function connectPush(client: DeviceClient, options: { ask: boolean }): Promise<PushOutcome> {
  if (!pushSupported()) return { state: 'unsupported' };
  let permission = Notification.permission;
  if (permission === 'denied') return { state: 'denied' };
  if (permission === 'default') {
    if (!options.ask) return { state: 'ask' };
    permission = await Notification.requestPermission();
    if (permission === 'denied') return { state: 'denied' };
    if (permission !== 'granted') return { state: 'ask' };
  }
  try {
    const config = await client.pushConfig();
    if (!config.webPush) return { state: 'off' };
    const key = fromBase64Url(config.webPush.applicationServerKey);
    const registration = await within(navigator.serviceWorker.ready, WORKER_TIMEOUT_MS, 'service worker');
    let subscription = await registration.pushManager.getSubscription();
    // A new server key makes the old subscription useless: the push service would refuse it.
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe().catch(() => undefined);
      subscription = null;
    }
    subscription ??= await within(
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as Uint8Array<ArrayBuffer> }),
      SUBSCRIBE_TIMEOUT_MS,
      'push subscription',
    );
    await client.registerPushTarget(subscription.toJSON());
    return { state: 'on' };
  } catch (error) {
    return { state: 'failed', error };
  }
}

/** Calls `wake` whenever the service worker relays a push (or a click on its notification). */
export function onWake(wake: () => void): () => void {
  if (!('serviceWorker' in navigator)) return () => undefined;
  const listener = (event: MessageEvent) => {
    if ((event.data as { type?: unknown } | null)?.type === 'tasdiq-wake') wake();
  };
  navigator.serviceWorker.addEventListener('message', listener);
  return () => navigator.serviceWorker.removeEventListener('message', listener);
}
