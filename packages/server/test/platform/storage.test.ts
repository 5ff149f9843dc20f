import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { isUniqueViolation } from '../../src/platform/db/index.ts';

describe.each(testDialects())('storage on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const office = (id: string) => ({
    id,
    kind: 'notary' as const,
    region: 'UZ-TK',
    name_uz_latn: 'a',
    name_uz_cyrl: 'а',
    name_ru: 'а',
    name_en: 'a',
    address: 'DEMO',
    active: 1,
    created_at: 1_700_000_000_000,
  });

  it('rolls back every write of a failed transaction', async () => {
    await expect(
      database.db.transaction().execute(async (tx) => {
        await tx.insertInto('offices').values(office('tx-a')).execute();
        await tx.insertInto('offices').values(office('tx-a')).execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    const rows = await database.db.selectFrom('offices').select('id').where('id', '=', 'tx-a').execute();
    expect(rows).toEqual([]);
  });

  it('returns epoch-millisecond times as numbers on both databases', async () => {
    await database.db.insertInto('offices').values(office('time-1')).execute();
    const row = await database.db.selectFrom('offices').selectAll().where('id', '=', 'time-1').executeTakeFirstOrThrow();
    expect(row.created_at).toBe(1_700_000_000_000);
    expect(row.active).toBe(1);
    expect(row.row_version).toBe(1);
  });
});

describe.skipIf(!testDialects().includes('postgres'))('PostgreSQL connection loss', () => {
  it('survives the server terminating idle pooled connections, and reconnects', async () => {
    const { sql } = await import('kysely');
    const database = await createTestDatabase('postgres');
    try {
      await database.ping();
      // What a PostgreSQL restart or failover does to a pool: kill its idle connections.
      const admin = await createTestDatabase('postgres', { migrate: false });
      try {
        const mine = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db);
        await sql`select pg_terminate_backend(${mine.rows[0]!.pid})`.execute(admin.db);
      } finally {
        await admin.dispose();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      await database.ping();
      expect((await database.db.selectFrom('offices').select('id').execute()).length).toBeGreaterThanOrEqual(0);
    } finally {
      await database.dispose();
    }
  });
});
