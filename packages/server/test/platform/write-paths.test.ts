import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { following, GATE_PASSED, preparedTogetherGated, writeTogether } from '../../src/platform/db/write-together.ts';
import { prepared } from '../../src/platform/db/prepared.ts';
import { sql } from 'kysely';
import { auditEventRow } from '../../src/audit/audit.ts';
import type { Db } from '../../src/platform/db/index.ts';

const officeRow = (id: string, now: number) => ({
  id,
  kind: 'notary' as const,
  region: 'UZ-TK',
  name_uz_latn: `Office ${id}`,
  name_uz_cyrl: `Офис ${id}`,
  name_ru: `Офис ${id}`,
  name_en: `Office ${id}`,
  address: 'Street 1',
  active: 1,
  created_at: now,
});

const audit = (action: string, now: number) => auditEventRow({ actorType: 'system', actorId: 'test', action }, now);

describe.each(testDialects())('write paths on %s', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  const count = async (action: string) => Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', action).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = database.db;
  });
  afterAll(async () => database.dispose());

  it('writeTogether writes the following rows only when the leading write changed a row', async () => {
    const now = Date.now();
    const inserted = await writeTogether(db, (qc) => qc.insertInto('offices').values(officeRow('wt-1', now)).returning('id'), [following('audit_events', audit('test.office_added', now))]);
    expect(inserted).toEqual(['wt-1']);
    expect(await count('test.office_added')).toBe(1);
    // a conditional update that matches nothing writes no audit record either
    const missed = await writeTogether(db, (qc) => qc.updateTable('offices').set({ created_at: now + 1 }).where('id', '=', 'wt-missing').returning('id'), [following('audit_events', audit('test.office_touched', now))]);
    expect(missed).toEqual([]);
    expect(await count('test.office_touched')).toBe(0);
    const touched = await writeTogether(db, (qc) => qc.updateTable('offices').set({ created_at: now + 1 }).where('id', '=', 'wt-1').returning('id'), [following('audit_events', audit('test.office_touched', now)), following('audit_events', audit('test.office_touched_twice', now))]);
    expect(touched).toEqual(['wt-1']);
    expect(await count('test.office_touched')).toBe(1);
    expect(await count('test.office_touched_twice')).toBe(1);
  });

  it('writeTogether is all or nothing: a following row that fails undoes the leading write', async () => {
    const now = Date.now();
    const taken = audit('test.duplicate', now);
    await db.insertInto('audit_events').values(taken).execute();
    await expect(writeTogether(db, (qc) => qc.insertInto('offices').values(officeRow('wt-2', now)).returning('id'), [following('audit_events', taken)])).rejects.toThrow();
    expect(await db.selectFrom('offices').select('id').where('id', '=', 'wt-2').executeTakeFirst()).toBeUndefined();
  });

  it('writeTogether joins a transaction it is given, which then decides', async () => {
    const now = Date.now();
    await expect(
      db.transaction().execute(async (tx) => {
        await writeTogether(tx, (qc) => qc.insertInto('offices').values(officeRow('wt-3', now)).returning('id'), [following('audit_events', audit('test.in_tx', now))]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await db.selectFrom('offices').select('id').where('id', '=', 'wt-3').executeTakeFirst()).toBeUndefined();
    expect(await count('test.in_tx')).toBe(0);
  });

  it('a gated group writes only when its gate wrote, in one statement on PostgreSQL, and says whether it passed', async () => {
    const now = Date.now();
    await db.insertInto('offices').values([officeRow('gate-1', now), officeRow('lead-1', now)]).execute();
    // The gate moves a number forward only (as a device counter does); the lead renames an office.
    const renameBehindGate = preparedTogetherGated(
      (qc, v: { gateId: string; at: number; leadId: string; name: string }) => qc.updateTable('offices').set({ created_at: v.at }).where('id', '=', v.gateId).where('created_at', '<', v.at).returning('id'),
      (qc, v, gated) => {
        const update = qc.updateTable('offices').set({ name_en: v.name }).where('id', '=', v.leadId);
        return (gated ? update.where(GATE_PASSED) : update).returning('id');
      },
    );
    const rename = (at: number, leadId: string, name: string) => renameBehindGate(db, { gateId: 'gate-1', at, leadId, name }, [following('audit_events', audit(`test.gated_${name}`, now))]);
    const office = async (id: string) => db.selectFrom('offices').select(['name_en', 'created_at']).where('id', '=', id).executeTakeFirstOrThrow();

    expect(await rename(now + 10, 'lead-1', 'first')).toEqual({ passed: true, ids: ['lead-1'] });
    expect(await office('lead-1')).toMatchObject({ name_en: 'first' });
    expect(await office('gate-1')).toMatchObject({ created_at: now + 10 });
    expect(await count('test.gated_first')).toBe(1);
    // The same gate value again (a replay): nothing at all is written.
    expect(await rename(now + 10, 'lead-1', 'replayed')).toEqual({ passed: false, ids: [] });
    expect(await office('lead-1')).toMatchObject({ name_en: 'first' });
    expect(await count('test.gated_replayed')).toBe(0);
    // The gate passes but the lead finds no row: the gate's write stays, no audit record.
    expect(await rename(now + 20, 'lead-missing', 'missing')).toEqual({ passed: true, ids: [] });
    expect(await office('gate-1')).toMatchObject({ created_at: now + 20 });
    expect(await count('test.gated_missing')).toBe(0);
    // Inside a transaction the caller's rollback undoes the gate too.
    await expect(
      db.transaction().execute(async (tx) => {
        expect(await renameBehindGate(tx, { gateId: 'gate-1', at: now + 30, leadId: 'lead-1', name: 'rolled' }, [])).toEqual({ passed: true, ids: ['lead-1'] });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await office('gate-1')).toMatchObject({ created_at: now + 20 });
    expect(await office('lead-1')).toMatchObject({ name_en: 'first' });
  });

  it('a prepared query binds new values each time and keeps its constants', async () => {
    const now = Date.now();
    for (const id of ['pq-1', 'pq-2', 'pq-3']) await db.insertInto('offices').values(officeRow(id, now)).execute();
    await db.updateTable('offices').set({ active: 0 }).where('id', '=', 'pq-3').execute();
    const activeById = prepared((qdb: Db, args: { id: string }) => qdb.selectFrom('offices').select(['id', 'name_en']).where('id', '=', args.id).where('active', '=', 1));
    expect((await activeById(db, { id: 'pq-1' })).rows).toEqual([{ id: 'pq-1', name_en: 'Office pq-1' }]);
    expect((await activeById(db, { id: 'pq-2' })).rows).toEqual([{ id: 'pq-2', name_en: 'Office pq-2' }]);
    expect((await activeById(db, { id: 'pq-3' })).rows).toEqual([]);
    const touch = prepared((qdb: Db, args: { id: string; at: number }) => qdb.updateTable('offices').set({ created_at: args.at }).where('id', '=', args.id).returning(['id', 'created_at']));
    expect((await touch(db, { id: 'pq-2', at: now + 5 })).rows).toEqual([{ id: 'pq-2', created_at: now + 5 }]);
    // inside a transaction too
    await db.transaction().execute(async (tx) => {
      expect((await touch(tx, { id: 'pq-1', at: now + 7 })).rows).toEqual([{ id: 'pq-1', created_at: now + 7 }]);
    });
  });

  it('a prepared query reads every column type the same on later runs as on its first, nulls included', async () => {
    await sql`create table prepared_shapes (id text primary key, n integer, big bigint, flag boolean, note text)`.execute(db);
    await sql`insert into prepared_shapes values ('s-1', 7, 5000000000, true, 'seven'), ('s-2', null, null, null, null)`.execute(db);
    const byId = prepared((qdb: Db, args: { id: string }) => qdb.selectFrom('prepared_shapes' as 'offices').selectAll().where('id', '=', args.id));
    // Alternating rows with values and rows of nulls, more runs than the pool has connections,
    // so every connection reads the statement after its first description.
    const runs = await Promise.all(Array.from({ length: 24 }, (_, i) => byId(db, { id: i % 2 ? 's-2' : 's-1' })));
    const full = { id: 's-1', n: 7, big: 5_000_000_000, flag: dialect === 'postgres' ? true : 1, note: 'seven' };
    for (const [i, run] of runs.entries()) expect(run.rows).toEqual([i % 2 ? { id: 's-2', n: null, big: null, flag: null, note: null } : full]);
    expect((await byId(db, { id: 'none' })).rows).toEqual([]);
  });

  it('a prepared query still answers after a migration adds a column under it, inside a transaction or not', async () => {
    await sql`create table prepared_probe (id text primary key, note text)`.execute(db);
    await sql`insert into prepared_probe (id, note) values ('p-1', 'first')`.execute(db);
    const probe = prepared((qdb: Db, args: { id: string }) => qdb.selectFrom('prepared_probe' as 'offices').selectAll().where('id', '=', args.id));
    for (let i = 0; i < 6; i++) expect((await probe(db, { id: 'p-1' })).rows).toEqual([{ id: 'p-1', note: 'first' }]);
    await sql`alter table prepared_probe add column extra text`.execute(db);
    // Outside a transaction the call is simply made again on every connection that held it...
    for (let i = 0; i < 12; i++) expect((await probe(db, { id: 'p-1' })).rows).toEqual([{ id: 'p-1', note: 'first', extra: null }]);
    await sql`alter table prepared_probe add column later text`.execute(db);
    // ...inside one, a stale statement fails that transaction once, and the next one works.
    const inTransaction = () => db.transaction().execute(async (tx) => (await probe(tx, { id: 'p-1' })).rows);
    const outcomes = await Promise.allSettled([inTransaction()]);
    if (outcomes[0]!.status === 'rejected') expect(String(outcomes[0]!.reason)).toMatch(/cached plan/);
    expect(await inTransaction()).toEqual([{ id: 'p-1', note: 'first', extra: null, later: null }]);
  });

  if (dialect === 'postgres') it('on PostgreSQL a prepared query is a named statement of its connection, and an ad hoc query is not', async () => {
    const byId = prepared((qdb: Db, args: { id: string }) => qdb.selectFrom('offices').select('id').where('id', '=', args.id).where('kind', '=', 'notary'));
    const named = await db.transaction().execute(async (tx) => {
      await byId(tx, { id: 'nothing' });
      await tx.selectFrom('offices').select('region').where('id', '=', 'ad-hoc').execute();
      return (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(tx)).rows.map((r) => r.statement);
    });
    expect(named.some((s) => s.includes('"kind" = $2'))).toBe(true);
    expect(named.some((s) => s.includes('"region"'))).toBe(false);
  });
});
