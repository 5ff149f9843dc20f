import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import type { Db, Tx } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import { NotifyErrors } from './errors.ts';
import type { PushTarget, PushTargetKind } from './schema.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';

/** A Web Push subscription as the browser's `PushSubscription.toJSON()` gives it. */
export interface WebPushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export type PushTargetInput =
  | { readonly kind: 'webpush'; readonly subscription: WebPushSubscription }
  | { readonly kind: 'fcm'; readonly token: string }
  | { readonly kind: 'apns'; readonly token: string };

/**
 * Where Web Push subscriptions may point. A subscription's endpoint is a URL the server will
 * POST to, chosen by whoever holds a device: without this list any activated device could make
 * the server call internal hosts (metadata services, Redis, admin ports).
 */
export interface WebPushPolicy {
  /** Push-service host names: exact (`fcm.googleapis.com`) or a subdomain wildcard (`*.push.apple.com`). */
  readonly hosts: readonly string[];
  /** Loopback endpoints (http allowed) without listing them: development only. */
  readonly allowLoopback: boolean;
}

/** The browsers' push services: Chrome and Chromium-based (FCM), Safari, Firefox, Edge. */
export const DEFAULT_WEBPUSH_HOSTS: readonly string[] = ['fcm.googleapis.com', '*.push.apple.com', 'updates.push.services.mozilla.com', '*.notify.windows.com'];

/** Outside development: the browsers' push services and nothing else. */
export const STRICT_WEBPUSH_POLICY: WebPushPolicy = { hosts: DEFAULT_WEBPUSH_HOSTS, allowLoopback: false };

/** Targets kept per device and kind; registering one more forgets the least recently registered. */
export const MAX_PUSH_TARGETS_PER_KIND = 5;

/** Field-level reasons a target is refused, in the `errors` of a `push_target_invalid` problem. */
export type PushTargetProblem =
  | 'kind_invalid'
  | 'device_invalid'
  | 'endpoint_invalid'
  | 'endpoint_not_https'
  | 'endpoint_host_not_allowed'
  | 'p256dh_invalid'
  | 'auth_invalid'
  | 'token_invalid';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const HOST_ENTRY = /^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$|^\[::1\]$/;

function invalid(field: string, code: PushTargetProblem, message: string): ApiError {
  return new ApiError(NotifyErrors.push_target_invalid, { detail: message, errors: [{ field, code, message }] });
}

/** Whether a host-list entry is well formed (for configuration checks). */
export function isWebPushHostEntry(entry: string): boolean {
  return HOST_ENTRY.test(entry);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function hostListed(hostname: string, hosts: readonly string[]): boolean {
  return hosts.some((entry) => (entry.startsWith('*.') ? hostname.endsWith(entry.slice(1)) && hostname.length > entry.length - 1 : hostname === entry));
}

/**
 * Whether the server may send to this endpoint: https to a listed push service, or a loopback
 * receiver (http allowed) in development or when listed. Returns the refusal, or undefined.
 */
export function webPushEndpointProblem(endpoint: unknown, policy: WebPushPolicy): { code: PushTargetProblem; message: string } | undefined {
  if (typeof endpoint !== 'string' || endpoint.length === 0) return { code: 'endpoint_invalid', message: 'subscription.endpoint must be a string' };
  if (endpoint.length > 2048) return { code: 'endpoint_invalid', message: 'subscription.endpoint is too long' };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { code: 'endpoint_invalid', message: 'subscription.endpoint must be an absolute URL' };
  }
  if (url.username !== '' || url.password !== '') return { code: 'endpoint_invalid', message: 'subscription.endpoint must not carry credentials' };
  const loopback = isLoopback(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return { code: 'endpoint_not_https', message: 'subscription.endpoint must be https' };
  const allowed = hostListed(url.hostname, policy.hosts) || (loopback && policy.allowLoopback);
  if (!allowed) return { code: 'endpoint_host_not_allowed', message: 'subscription.endpoint is not at a known push service' };
  return undefined;
}

/** An uncompressed P-256 point (65 bytes, 0x04 || x || y) that really is on the curve. */
function isP256Point(b64url: string): boolean {
  const raw = Buffer.from(b64url, 'base64url');
  if (raw.length !== 65 || raw[0] !== 0x04) return false;
  try {
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

/** Checks a target and returns what is stored as its address; throws `push_target_invalid`. */
export function pushTargetAddress(target: PushTargetInput, policy: WebPushPolicy = STRICT_WEBPUSH_POLICY): string {
  switch (target?.kind) {
    case 'webpush': {
      const s = target.subscription as Partial<WebPushSubscription> | undefined;
      if (typeof s !== 'object' || s === null || Array.isArray(s)) throw invalid('subscription', 'endpoint_invalid', 'subscription must be an object');
      const problem = webPushEndpointProblem(s.endpoint, policy);
      if (problem) throw invalid('subscription.endpoint', problem.code, problem.message);
      const keys = typeof s.keys === 'object' && s.keys !== null ? s.keys : ({} as Partial<WebPushSubscription['keys']>);
      const { p256dh, auth } = keys;
      if (typeof p256dh !== 'string' || p256dh.length > 100 || !BASE64URL.test(p256dh) || !isP256Point(p256dh)) {
        throw invalid('subscription.keys.p256dh', 'p256dh_invalid', 'keys.p256dh must be an uncompressed P-256 public key');
      }
      // The auth secret is 16 bytes (RFC 8291 section 3.2).
      if (typeof auth !== 'string' || auth.length > 32 || !BASE64URL.test(auth) || Buffer.from(auth, 'base64url').length !== 16) {
        throw invalid('subscription.keys.auth', 'auth_invalid', 'keys.auth must be 16 bytes');
      }
      return JSON.stringify({ endpoint: s.endpoint, keys: { p256dh, auth } });
    }
    case 'fcm':
    case 'apns': {
      const pattern = target.kind === 'apns' ? /^[0-9a-fA-F]{64,200}$/ : /^[A-Za-z0-9_:.-]{20,4096}$/;
      if (typeof target.token !== 'string' || !pattern.test(target.token)) throw invalid('token', 'token_invalid', `${target.kind} token is malformed`);
      return target.token;
    }
    default:
      throw invalid('kind', 'kind_invalid', 'kind must be webpush, fcm or apns');
  }
}

function addressHash(kind: string, address: string): string {
  return createHash('sha256').update(`${kind}:${address}`).digest('hex');
}

/**
 * Records where a device can be woken. Idempotent: the same target registered again moves to
 * the given device (a reinstalled app keeps its FCM token but gets a new device id). A device
 * keeps at most MAX_PUSH_TARGETS_PER_KIND targets of a kind; the oldest give way.
 * `policy` says where Web Push endpoints may point (see `webPushPolicy` in config.ts).
 */
export async function registerPushTarget(
  db: Tx | Db,
  deviceId: string,
  target: PushTargetInput,
  now: number = Date.now(),
  policy: WebPushPolicy = STRICT_WEBPUSH_POLICY,
): Promise<{ id: string }> {
  if (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 128) throw invalid('deviceId', 'device_invalid', 'device id is missing');
  const address = pushTargetAddress(target, policy);
  const hash = addressHash(target.kind, address);
  const write = async (tx: Tx | Db) => {
    await tx
      .insertInto('notify_push_targets')
      .values({ id: randomUUID(), device_id: deviceId, kind: target.kind, address, address_hash: hash, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('address_hash').doUpdateSet({ device_id: deviceId, updated_at: now }))
      .execute();
    const row = await tx.selectFrom('notify_push_targets').select('id').where('address_hash', '=', hash).executeTakeFirstOrThrow();
    const stale = (
      await tx
        .selectFrom('notify_push_targets')
        .select('id')
        .where('device_id', '=', deviceId)
        .where('kind', '=', target.kind)
        .orderBy('updated_at', 'desc')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .offset(MAX_PUSH_TARGETS_PER_KIND)
        .limit(1_000)
        .execute()
    )
      .map((r) => r.id)
      .filter((id) => id !== row.id);
    if (stale.length > 0) await tx.deleteFrom('notify_push_targets').where('id', 'in', stale).execute();
    return { id: row.id };
  };
  try {
    return await (db.isTransaction ? write(db) : (db as Db).transaction().execute(write));
  } finally {
    // (A target that moved here from another device stays in that device's list until it
    // expires: at most a few seconds of wakes, which carry nothing, to a phone that cannot use them.)
    wakeTargets.delete(deviceId);
  }
}

export async function listPushTargets(db: Tx | Db, deviceId: string): Promise<PushTarget[]> {
  return db.selectFrom('notify_push_targets').selectAll().where('device_id', '=', deviceId).orderBy('created_at').orderBy('id').execute();
}

/**
 * The targets a push goes to: the most recently registered MAX_PUSH_TARGETS_PER_KIND of each
 * kind (targets stored before the cap existed may be more).
 */
export async function pushTargetsToWake(db: Tx | Db, deviceId: string): Promise<PushTarget[]> {
  const now = Date.now();
  const cached = wakeTargets.get(deviceId, now);
  if (cached) return cached;
  const rows = await db.selectFrom('notify_push_targets').selectAll().where('device_id', '=', deviceId).orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(200).execute();
  const perKind = new Map<PushTargetKind, number>();
  const targets = rows.filter((r) => {
    const n = (perKind.get(r.kind) ?? 0) + 1;
    perKind.set(r.kind, n);
    return n <= MAX_PUSH_TARGETS_PER_KIND;
  });
  wakeTargets.set(deviceId, targets, now + WAKE_TARGETS_CACHE_MS);
  return targets;
}

/**
 * Every sign-in wakes its phone, and a phone's targets change rarely: they are kept a few
 * seconds, forgotten at once when this process changes them. Another instance sees a change
 * within WAKE_TARGETS_CACHE_MS; until then at most a wake (no data) goes to the old target.
 */
const WAKE_TARGETS_CACHE_MS = 5_000;
const wakeTargets = new BoundedCache<string, PushTarget[]>(50_000);

/** Forgets every target of a device (it was revoked or signed out). */
export async function removePushTargets(tx: Tx | Db, deviceId: string): Promise<void> {
  await tx.deleteFrom('notify_push_targets').where('device_id', '=', deviceId).execute();
  wakeTargets.delete(deviceId);
}

/**
 * For the devices module: call it in the transaction that revokes a device, so a revoked app
 * is never woken again (the hourly purge also removes targets of revoked devices).
 */
export async function removePushTargetsOfDevice(tx: Tx | Db, deviceId: string): Promise<void> {
  await removePushTargets(tx, deviceId);
}

export async function removePushTarget(db: Tx | Db, target: Pick<PushTarget, 'id' | 'device_id'>): Promise<void> {
  await db.deleteFrom('notify_push_targets').where('id', '=', target.id).execute();
  wakeTargets.delete(target.device_id);
}
