import type { Redis } from 'ioredis';
import type { Db, Dialect } from '../../platform/db/index.ts';
import { ExpiryRing } from './ring.ts';
import { purgeDurable, SqlAdapter } from './sql-adapter.ts';
import { RedisAdapter } from './redis-adapter.ts';
import { LONG_LIVED_MODELS, type ProviderAdapter } from './types.ts';

export { ExpiryRing, BUCKET_MS, bucketOf } from './ring.ts';
export { purgeDurable, SqlAdapter } from './sql-adapter.ts';
export { RedisAdapter } from './redis-adapter.ts';
export type { ProviderAdapter, AdapterPayload } from './types.ts';

export interface ProviderStorage {
  /** The adapter class factory oidc-provider is configured with. */
  adapterFor(model: string): ProviderAdapter;
  /** Recycles passed ring slots and purges expired durable rows; run on a timer. */
  maintain(): Promise<{ slotsEmptied: number; durableRemoved: number }>;
  readonly ring: ExpiryRing;
  /** Live grants a citizen gave a client (their tokens hang off them), longest-lived first. */
  grantsOf(accountId: string, clientId: string): Promise<string[]>;
}

/**
 * Where provider state lives: short-lived models in Redis (with TTLs) when Redis is
 * configured, otherwise in the ring of expiry-bucket tables; long-lived ones always in the
 * durable table of the service database.
 */
export function createProviderStorage(options: { db: Db; dialect: Dialect; now: () => number; redis?: Redis | undefined }): ProviderStorage {
  const { db, dialect, now, redis } = options;
  const ring = new ExpiryRing(db, dialect, now);
  const adapters = new Map<string, ProviderAdapter>();
  return {
    ring,
    adapterFor(model) {
      let adapter = adapters.get(model);
      if (!adapter) {
        adapter = redis && !LONG_LIVED_MODELS.has(model) ? new RedisAdapter(model, redis) : new SqlAdapter(model, db, ring, now);
        adapters.set(model, adapter);
      }
      return adapter;
    },
    async grantsOf(accountId, clientId) {
      const rows = await db
        .selectFrom('oidc_durable')
        .select('id')
        .where('account_id', '=', accountId)
        .where('client_id', '=', clientId)
        .where('model', '=', 'Grant')
        .where('expires_at', '>', now())
        .orderBy('expires_at', 'desc')
        .execute();
      return rows.map((r) => r.id);
    },
    async maintain() {
      const slotsEmptied = await ring.advance();
      const durableRemoved = await purgeDurable(db, now());
      return { slotsEmptied, durableRemoved };
    },
  };
}
