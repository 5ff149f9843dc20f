import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { listAuditEvents, presentAuditEvent, recordAudit } from '../../src/audit/index.ts';

describe.each(testDialects())('audit log on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => db?.dispose());

  it('writes in the caller transaction: a rolled-back change leaves no event', async () => {
    await expect(
      db.db.transaction().execute(async (tx) => {
        await recordAudit(tx, { actorType: 'system', actorId: 'test', action: 'test.rolled_back' }, 1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await listAuditEvents(db.db, { limit: 10 })).toEqual([]);
  });

  it('lists a citizen events newest first, in write order within one millisecond, with keyset pages', async () => {
    const at = Date.parse('2026-11-25T08:00:00Z');
    for (const action of ['a.first', 'a.second', 'a.third']) {
      await recordAudit(db.db, { actorType: 'operator', actorId: 'op_1', officeId: 'psc-tk-01', action, subjectCitizenId: 'cit_1', reason: action === 'a.third' ? 'why' : null, details: { n: 1 }, requestId: 'req-1' }, at);
    }
    await recordAudit(db.db, { actorType: 'device', actorId: 'dev_1', action: 'other', subjectCitizenId: 'cit_2' }, at + 1);
    const page = await listAuditEvents(db.db, { citizenId: 'cit_1', limit: 2 });
    expect(page.map((e) => e.action)).toEqual(['a.third', 'a.second']);
    const rest = await listAuditEvents(db.db, { citizenId: 'cit_1', before: page[1]!.id, limit: 2 });
    expect(rest.map((e) => e.action)).toEqual(['a.first']);
    expect(presentAuditEvent(page[0]!)).toMatchObject({
      at: '2026-11-25T08:00:00.000Z',
      actorType: 'operator',
      actorId: 'op_1',
      officeId: 'psc-tk-01',
      subjectCitizenId: 'cit_1',
      reason: 'why',
      details: { n: 1 },
      requestId: 'req-1',
    });
  });
});
