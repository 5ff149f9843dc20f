import type { Redis } from 'ioredis';
import type { AdapterPayload, ProviderAdapter } from './types.ts';

const PREFIX = 'tasdiq:oidc:';

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
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = await this.#redis.hmget(this.#key(id), 'payload', 'consumed');
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
    await this.#redis.eval(
      "if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[1], 'consumed', ARGV[1]) end return 0",
      1,
      key,
      String(Math.floor(Date.now() / 1000)),
    );
  }

  async destroy(id: string): Promise<void> {
    await this.#redis.del(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${PREFIX}grant:${grantId}`;
    const members = await this.#redis.smembers(grantKey);
    const own = members.filter((m) => m.startsWith(`${PREFIX}${this.#model}:`));
    if (own.length > 0) await this.#redis.multi().del(...own).srem(grantKey, ...own).exec();
  }
}
