import { createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { QueryCreator } from 'kysely';
import type { Database } from '../platform/db/types.ts';
import { isPostgres, type Db, type Tx } from '../platform/db/index.ts';
import { prepared } from '../platform/db/prepared.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { DeviceErrors } from './errors.ts';
import { canonicalRequest } from './canonical.ts';
import { verifyP256 } from '../platform/p256.ts';
import type { Device } from './schema.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact body bytes, kept on device routes because the signature covers them. */
    rawBody?: Buffer;
    /** Set by `requireDevice` once the request's signature, counter and device are checked. */
    device?: Device;
  }
}

export const HEADER_DEVICE = 'tasdiq-device';
export const HEADER_COUNTER = 'tasdiq-counter';
export const HEADER_TIMESTAMP = 'tasdiq-timestamp';
export const HEADER_SIGNATURE = 'tasdiq-signature';
/** How far a device clock may be from ours; the counter, not the clock, stops replays. */
export const MAX_CLOCK_SKEW_MS = 120_000;

const DEVICE_ID = /^dev_[A-Za-z0-9_-]{16,40}$/;
const INTEGER = /^[0-9]{1,15}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

export function importP256(spkiBase64Url: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spkiBase64Url, 'base64url'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A device's stored public key (checked when it was registered), imported once: every
 * confirmation verifies with it, and a key never changes (a new key is a new device).
 */
const storedKeys = new BoundedCache<string, KeyObject>(100_000);
export function storedP256(spkiBase64Url: string): KeyObject | undefined {
  let key = storedKeys.get(spkiBase64Url, 0);
  if (!key) {
    key = importP256(spkiBase64Url);
    if (key) storedKeys.set(spkiBase64Url, key);
  }
  return key;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export type CounterAdvance = {
  readonly deviceId: string;
  readonly counter: number;
  readonly now: number;
};

/**
 * What a device is and keeps for life: its citizen and binding, its keys, how it was enrolled
 * and keeps its keys. Its status, counter and certificates change, so they are not here.
 */
const PROFILE_FIELDS = ['id', 'citizen_id', 'binding_id', 'auth_public_key', 'sign_public_key', 'assurance', 'key_storage', 'uv_credential_id', 'uv_public_key'] as const satisfies ReadonlyArray<keyof Device>;
export type DeviceProfile = Pick<Device, (typeof PROFILE_FIELDS)[number]>;

function profileOf(d: Device): DeviceProfile {
  return { id: d.id, citizen_id: d.citizen_id, binding_id: d.binding_id, auth_public_key: d.auth_public_key, sign_public_key: d.sign_public_key, assurance: d.assurance, key_storage: d.key_storage, uv_credential_id: d.uv_credential_id, uv_public_key: d.uv_public_key };
}

/**
 * Moves the stored counter forward, once: of two requests with the same counter at most one
 * passes. Exported as a builder so a route can read what it needs in the same statement.
 */
export function advanceCounterQuery(db: QueryCreator<Database>, args: CounterAdvance) {
  return db
    .updateTable('devices')
    .set({ counter: args.counter, last_seen_at: args.now })
    .where('id', '=', args.deviceId)
    .where('status', '=', 'active')
    .where('counter', '<', args.counter)
    .where('cert_not_after', '>', args.now)
    .returningAll();
}
const advanceCounter = prepared((db: Db, args: CounterAdvance) => advanceCounterQuery(db, args));

/**
 * What a device route reads beside the counter's UPDATE: on PostgreSQL `together` runs both as
 * one statement (the UPDATE as a CTE), saving the route a round trip; on SQLite, which runs in
 * process, `after` reads it once the counter moved.
 */
export interface CounterRider<T> {
  readonly together: (db: Db | Tx, args: CounterAdvance) => Promise<Array<Device & { rider: T | null }>>;
  readonly after: (db: Db | Tx, device: Device) => Promise<T | null>;
}

/**
 * Checks a signed device request: signature over the canonical string, clock skew, device
 * status and certificate validity, then moves the stored counter forward in one conditional
 * UPDATE, so of two requests with the same counter at most one passes, on any instance.
 */
export class DeviceAuthenticator {
  readonly #db: Db;
  readonly #now: () => number;
  /**
   * What never changes of a device (its keys among it), as its last request read it, so a
   * request reads only what changes: status and counter, in the counter's UPDATE. The keys'
   * KeyObjects are cached by `storedP256`.
   */
  readonly #profiles = new BoundedCache<string, DeviceProfile>(100_000);

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async #profile(deviceId: string): Promise<DeviceProfile | undefined> {
    const cached = this.#profiles.get(deviceId, 0);
    if (cached) return cached;
    const row = await this.#db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    return row && this.#remember(row);
  }

  /**
   * Keeps the profile of a device row just read, which is at least as fresh as the one kept.
   * The one kept stays while the row says the same: a new copy on every request would leave
   * each sign-in an object that lived long enough to reach the old generation, to collect there.
   */
  #remember(device: Device): DeviceProfile {
    const kept = this.#profiles.get(device.id, 0);
    if (kept && PROFILE_FIELDS.every((field) => kept[field] === device[field])) return kept;
    const profile = profileOf(device);
    this.#profiles.set(device.id, profile);
    return profile;
  }

  async authenticate(request: FastifyRequest): Promise<Device> {
    return this.#advance((await this.#verify(request)).counter);
  }

  /**
   * The signature, clock and key checks of a request whose counter moves forward later, in the
   * write it makes (a confirmation: `preparedTogetherGated` with `advanceCounterQuery`), and the
   * device's unchanging part for the checks before that write. Nothing of its status is read
   * here: the counter's UPDATE decides that, and `refuseDeviceRequest` says why it refused.
   */
  async checkDeferringCounter(request: FastifyRequest): Promise<{ profile: DeviceProfile; counter: CounterAdvance }> {
    return this.#verify(request);
  }

  /** authenticate, with what the route reads beside the counter's UPDATE (see CounterRider). */
  async authenticateWith<T>(request: FastifyRequest, rider: CounterRider<T>): Promise<{ device: Device; rider: T | null }> {
    const { counter: checked } = await this.#verify(request);
    if (isPostgres(this.#db)) {
      const row = (await rider.together(this.#db, checked))[0];
      if (!row) return refuseDeviceRequest(this.#db, checked);
      const { rider: read, ...device } = row;
      this.#remember(device);
      return { device, rider: read };
    }
    const device = await this.#advance(checked);
    return { device, rider: await rider.after(this.#db, device) };
  }

  /** The counter's UPDATE alone: the device as it now stands (its profile kept), or why it was refused. */
  async #advance(checked: CounterAdvance): Promise<Device> {
    const device = (await advanceCounter(this.#db, checked)).rows[0] ?? (await refuseDeviceRequest(this.#db, checked));
    this.#remember(device);
    return device;
  }

  /** The signature, clock and key checks, before the counter is touched: the counter to move, and the device. */
  async #verify(request: FastifyRequest): Promise<{ counter: CounterAdvance; profile: DeviceProfile }> {
    const deviceId = header(request, HEADER_DEVICE);
    const counterText = header(request, HEADER_COUNTER);
    const timestampText = header(request, HEADER_TIMESTAMP);
    const signature = header(request, HEADER_SIGNATURE);
    if (!deviceId || !DEVICE_ID.test(deviceId) || !counterText || !INTEGER.test(counterText) || !timestampText || !INTEGER.test(timestampText) || !signature || !SIGNATURE.test(signature)) {
      throw new ApiError(DeviceErrors.device_auth_missing);
    }
    const counter = Number(counterText);
    const timestamp = Number(timestampText);
    const now = this.#now();
    if (Math.abs(now - timestamp) > MAX_CLOCK_SKEW_MS) throw new ApiError(DeviceErrors.device_clock_skew, { params: { serverTime: now } });
    const profile = await this.#profile(deviceId);
    const key = profile && storedP256(profile.auth_public_key);
    if (!profile || !key) throw new ApiError(DeviceErrors.device_unknown);
    const message = canonicalRequest({ method: request.method, path: request.url, deviceId, counter, timestamp, body: request.rawBody ?? '' });
    if (!verifyP256(key, message, signature)) throw new ApiError(DeviceErrors.device_signature_invalid);
    return { counter: { deviceId, counter, now }, profile };
  }
}

/** Why a counter's UPDATE changed nothing: a revoked device, an expired certificate or a replay. */
export async function refuseDeviceRequest(db: Db | Tx, checked: CounterAdvance): Promise<never> {
  throw (await refusalOf(db, checked)) ?? new ApiError(DeviceErrors.device_request_replayed, { params: { counter: checked.counter } });
}

/**
 * For a request whose counter was to move in a later write that it never reached (it failed
 * first): the refusal its counter's UPDATE would have met, if any. So a replayed or revoked
 * device's request is told so before anything else, wherever the counter moves.
 */
export async function refusalOf(db: Db | Tx, { deviceId, counter, now }: CounterAdvance): Promise<ApiError | undefined> {
  const device = await db.selectFrom('devices').select(['status', 'cert_not_after', 'counter']).where('id', '=', deviceId).executeTakeFirstOrThrow();
  if (device.status !== 'active') return new ApiError(DeviceErrors.device_revoked);
  if (device.cert_not_after <= now) return new ApiError(DeviceErrors.device_certificate_expired);
  if (device.counter >= counter) return new ApiError(DeviceErrors.device_request_replayed, { params: { counter: device.counter } });
  return undefined;
}

/**
 * Prepares a route scope for signed device requests: JSON bodies are parsed from bytes that
 * are kept for the signature check, and `requireDevice` is the preHandler for device routes.
 */
export function installDeviceProtocol(app: FastifyInstance, authenticator: DeviceAuthenticator) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')) as unknown);
    } catch {
      done(new ApiError(CommonErrors.malformed_body), undefined);
    }
  });
  return async function requireDevice(request: FastifyRequest): Promise<void> {
    request.device = await authenticator.authenticate(request);
  };
}
