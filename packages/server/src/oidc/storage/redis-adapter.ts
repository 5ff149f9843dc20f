import type { Redis } from 'ioredis';
import { errors } from 'oidc-provider';
import { isRedisUnavailable } from '../../platform/redis.ts';
import type { AdapterPayload, ProviderAdapter } from './types.ts';

const PREFIX = 'tasdiq:oidc:';

/**
 * Redis out of reach becomes OAuth's temporarily_unavailable with 503 (shown to the caller, as
 * "try again" is the truth), instead of the provider's opaque server_error 500.
 */
async function available<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    throw Object.assign(new errors.TemporarilyUnavailable('the sign-in state store is unavailable; try again shortly', { cause: error }), { status: 503, statusCode: 503, expose: true });
  }
}

/**
 * Short-lived provider state in Redis, each key with a TTL so Redis drops it on time:
 * nothing to clean up. A hash per row (payload + consumed time) and a set per grant so
 * revoking a grant finds its codes and tokens.
 */
export class RedisAdapter implements ProviderAdapter {
  readonly #redis: Redis;
  readonly #model: string;

  constructor(model: string, redis: Redis) {
    this.#model = model;
    this.#redis = redis;
  }

  #key(id: string): string {
    return `${PREFIX}${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const key = this.#key(id);
    const ttlMs = Math.max(1, Math.ceil((expiresIn ?? 3600) * 1000));
    const multi = this.#redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload)).pexpire(key, ttlMs);
    if (typeof payload.grantId === 'string') {
      const grantKey = `${PREFIX}grant:${payload.grantId}`;
      // The grant set lives as long as its longest member; GT only ever extends it.
      multi.sadd(grantKey, key).pexpire(grantKey, ttlMs, 'GT').pexpire(grantKey, ttlMs, 'NX');
    }
    await available(multi.exec());
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = await available(this.#redis.hmget(this.#key(id), 'payload', 'consumed'));
    if (!payload) return undefined;
    const parsed = JSON.parse(payload) as AdapterPayload;
    if (consumed) parsed.consumed = Number(consumed);
    return parsed;
  }

  async findByUid(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const key = this.#key(id);
    // Only an existing row is marked; HSET on a missing key would create one without a TTL.
    await available(
      this.#redis.eval(
        "if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[1], 'consumed', ARGV[1]) end return 0",
        1,
        key,
        String(Math.floor(Date.now() / 1000)),
      ),
    );
  }

  async destroy(id: string): Promise<void> {
    await available(this.#redis.del(this.#key(id)));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${PREFIX}grant:${grantId}`;
    const members = await available(this.#redis.smembers(grantKey));
    const own = members.filter((m) => m.startsWith(`${PREFIX}${this.#model}:`));
    if (own.length > 0) await available(this.#redis.multi().del(...own).srem(grantKey, ...own).exec());
  }
}
