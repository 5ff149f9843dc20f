import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { BUCKET_MS, createProviderStorage, RedisAdapter, type ProviderStorage } from '../../src/oidc/storage/index.ts';
import { RING_TABLES } from '../../src/oidc/schema.ts';

async function rowCounts(database: TestDatabase): Promise<{ ring: number; durable: number }> {
  let ring = 0;
  for (const table of RING_TABLES) {
    const row = await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    ring += Number(row.n);
  }
  const durable = await database.db.selectFrom('oidc_durable').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { ring, durable: Number(durable.n) };
}

describe.each(testDialects())('provider storage on %s', (dialect) => {
  let database: TestDatabase;
  let clock = Date.UTC(2026, 10, 25, 7, 0, 0);
  let storage: ProviderStorage;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    storage = createProviderStorage({ db: database.db, dialect, now: () => clock });
    await storage.maintain();
  });
  afterAll(() => database.dispose());

  it('stores, finds, consumes and destroys short-lived state in the ring', async () => {
    const codes = storage.adapterFor('AuthorizationCode');
    await codes.upsert('code-1', { jti: 'code-1', grantId: 'g1', kind: 'AuthorizationCode' }, 60);
    expect((await rowCounts(database)).ring).toBe(1);
    expect(await codes.find('code-1')).toMatchObject({ jti: 'code-1', grantId: 'g1' });
    expect((await codes.find('code-1'))?.consumed).toBeUndefined();
    await codes.consume('code-1');
    expect((await codes.find('code-1'))?.consumed).toBe(Math.floor(clock / 1000));
    await codes.destroy('code-1');
    expect(await codes.find('code-1')).toBeUndefined();
    expect(await storage.adapterFor('AccessToken').find('code-1')).toBeUndefined();
  });

  it('moves a re-saved interaction to its new bucket instead of duplicating it', async () => {
    const interactions = storage.adapterFor('Interaction');
    await interactions.upsert('i-1', { jti: 'i-1', step: 1 }, 60);
    await interactions.upsert('i-1', { jti: 'i-1', step: 2 }, 3000);
    expect(await interactions.find('i-1')).toMatchObject({ step: 2 });
    expect((await rowCounts(database)).ring).toBe(1);
    await interactions.destroy('i-1');
  });

  it('revokes every token of a grant and keeps long-lived state in the durable table', async () => {
    const access = storage.adapterFor('AccessToken');
    const refresh = storage.adapterFor('RefreshToken');
    const sessions = storage.adapterFor('Session');
    await access.upsert('at-1', { jti: 'at-1', grantId: 'g2' }, 600);
    await refresh.upsert('rt-1', { jti: 'rt-1', grantId: 'g2' }, 86_400);
    await sessions.upsert('s-1', { jti: 's-1', uid: 'uid-1' }, 86_400);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 's-1' });
    await access.revokeByGrantId('g2');
    await refresh.revokeByGrantId('g2');
    expect(await access.find('at-1')).toBeUndefined();
    expect(await refresh.find('rt-1')).toBeUndefined();
    expect(await rowCounts(database)).toEqual({ ring: 0, durable: 1 });
  });

  it('drops expired short-lived rows by emptying whole ring slots, and purges expired durable rows', async () => {
    const codes = storage.adapterFor('AuthorizationCode');
    const interactions = storage.adapterFor('Interaction');
    for (let i = 0; i < 50; i++) await codes.upsert(`c-${i}`, { jti: `c-${i}` }, 60);
    await interactions.upsert('late', { jti: 'late' }, 3600);
    // Beyond the ring's horizon: kept in the durable table rather than refused.
    await storage.adapterFor('ReplayDetection').upsert('far', { jti: 'far' }, 3 * 3600);
    expect(await rowCounts(database)).toEqual({ ring: 51, durable: 2 });

    clock += 2 * 60_000;
    expect(await codes.find('c-0')).toBeUndefined();

    clock += BUCKET_MS; // the codes' bucket has passed; the interaction's has not
    const first = await storage.maintain();
    expect(first.slotsEmptied).toBeGreaterThanOrEqual(1);
    expect((await rowCounts(database)).ring).toBe(1);
    expect(await interactions.find('late')).toMatchObject({ jti: 'late' });

    clock += 2 * 86_400_000;
    const second = await storage.maintain();
    expect(second.durableRemoved).toBe(2);
    expect(await rowCounts(database)).toEqual({ ring: 0, durable: 0 });
  });

  it('writes to the durable table while a slot has not been recycled yet', async () => {
    const fresh = createProviderStorage({ db: database.db, dialect, now: () => clock });
    // No maintain() yet in this instance: it does not know the ring, so nothing goes there.
    await fresh.adapterFor('PushedAuthorizationRequest').upsert('par-1', { jti: 'par-1' }, 60);
    expect(await rowCounts(database)).toEqual({ ring: 0, durable: 1 });
    expect(await fresh.adapterFor('PushedAuthorizationRequest').find('par-1')).toMatchObject({ jti: 'par-1' });
    await fresh.adapterFor('PushedAuthorizationRequest').destroy('par-1');
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl)('provider storage in Redis', () => {
  let redis: Redis;
  const model = `Test${Date.now()}`;
  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });
  afterAll(() => redis.quit());

  it('expires rows with Redis TTLs, consumes, and revokes by grant', async () => {
    const adapter = new RedisAdapter(model, redis);
    await adapter.upsert('a', { jti: 'a', grantId: `g-${model}` }, 1);
    await adapter.upsert('b', { jti: 'b', grantId: `g-${model}` }, 60);
    const ttl = await redis.pttl(`tasdiq:oidc:${model}:b`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await adapter.consume('b');
    expect((await adapter.find('b'))?.consumed).toBeGreaterThan(0);
    await adapter.consume('missing');
    expect(await redis.exists(`tasdiq:oidc:${model}:missing`)).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await adapter.find('a')).toBeUndefined();
    await adapter.revokeByGrantId(`g-${model}`);
    expect(await adapter.find('b')).toBeUndefined();
  });
});
