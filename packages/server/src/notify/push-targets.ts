import { createHash, randomUUID } from 'node:crypto';
import type { Db, Tx } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import { NotifyErrors } from './errors.ts';
import type { PushTarget } from './schema.ts';

/** A Web Push subscription as the browser's `PushSubscription.toJSON()` gives it. */
export interface WebPushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export type PushTargetInput =
  | { readonly kind: 'webpush'; readonly subscription: WebPushSubscription }
  | { readonly kind: 'fcm'; readonly token: string }
  | { readonly kind: 'apns'; readonly token: string };

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function invalid(detail: string): ApiError {
  return new ApiError(NotifyErrors.push_target_invalid, { detail });
}

function decodedLength(b64url: string): number {
  return Buffer.from(b64url, 'base64url').length;
}

/** Checks a target and returns what is stored as its address; throws `push_target_invalid`. */
export function pushTargetAddress(target: PushTargetInput): string {
  switch (target?.kind) {
    case 'webpush': {
      const s = target.subscription;
      let url: URL;
      try {
        url = new URL(s?.endpoint);
      } catch {
        throw invalid('subscription.endpoint must be an absolute URL');
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
        throw invalid('subscription.endpoint must be https');
      }
      if (s.endpoint.length > 2048) throw invalid('subscription.endpoint is too long');
      const { p256dh, auth } = s.keys ?? {};
      // An uncompressed P-256 point is 65 bytes; the auth secret is 16 (RFC 8291).
      if (typeof p256dh !== 'string' || !BASE64URL.test(p256dh) || decodedLength(p256dh) !== 65) throw invalid('keys.p256dh must be a P-256 public key');
      if (typeof auth !== 'string' || !BASE64URL.test(auth) || decodedLength(auth) !== 16) throw invalid('keys.auth must be 16 bytes');
      return JSON.stringify({ endpoint: s.endpoint, keys: { p256dh, auth } });
    }
    case 'fcm':
    case 'apns': {
      const pattern = target.kind === 'apns' ? /^[0-9a-fA-F]{64,200}$/ : /^[A-Za-z0-9_:.-]{20,4096}$/;
      if (typeof target.token !== 'string' || !pattern.test(target.token)) throw invalid(`${target.kind} token is malformed`);
      return target.token;
    }
    default:
      throw invalid('kind must be webpush, fcm or apns');
  }
}

function addressHash(kind: string, address: string): string {
  return createHash('sha256').update(`${kind}:${address}`).digest('hex');
}

/**
 * Records where a device can be woken. Idempotent: the same target registered again moves to
 * the given device (a reinstalled app keeps its FCM token but gets a new device id).
 */
export async function registerPushTarget(tx: Tx | Db, deviceId: string, target: PushTargetInput, now: number = Date.now()): Promise<{ id: string }> {
  if (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 128) throw invalid('device id is missing');
  const address = pushTargetAddress(target);
  const hash = addressHash(target.kind, address);
  const id = randomUUID();
  await tx
    .insertInto('notify_push_targets')
    .values({ id, device_id: deviceId, kind: target.kind, address, address_hash: hash, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('address_hash').doUpdateSet({ device_id: deviceId, updated_at: now }))
    .execute();
  const row = await tx.selectFrom('notify_push_targets').select('id').where('address_hash', '=', hash).executeTakeFirstOrThrow();
  return { id: row.id };
}

export async function listPushTargets(db: Tx | Db, deviceId: string): Promise<PushTarget[]> {
  return db.selectFrom('notify_push_targets').selectAll().where('device_id', '=', deviceId).orderBy('created_at').execute();
}

/** Forgets every target of a device (it was revoked or signed out). */
export async function removePushTargets(tx: Tx | Db, deviceId: string): Promise<void> {
  await tx.deleteFrom('notify_push_targets').where('device_id', '=', deviceId).execute();
}

export async function removePushTarget(db: Tx | Db, id: string): Promise<void> {
  await db.deleteFrom('notify_push_targets').where('id', '=', id).execute();
}
