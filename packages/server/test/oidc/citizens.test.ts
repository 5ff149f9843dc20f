import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen } from '../devices/enroll.ts';
import { DatabaseCitizenDirectory, claimsFromCitizen } from '../../src/oidc/citizens.ts';

describe.each(testDialects())('claims and login hints from the identity tables on %s', (dialect) => {
  let app: TestApp;
  let directory: DatabaseCitizenDirectory;
  beforeAll(async () => {
    app = await createTestApp(dialect);
    directory = new DatabaseCitizenDirectory(app.context.db);
  });
  afterAll(() => app.close());

  it('reads names in both scripts, the active phone and the newest document', async () => {
    const citizen = await enrollCitizen(app.context.db, app.config.publicUrl);
    await app.context.db
      .insertInto('identity_documents')
      .values([
        { id: `doc_${citizen.citizenId}_1`, citizen_id: citizen.citizenId, kind: 'id_card', series: 'AA', number: '1111111', issued_on: '2015-01-01', expires_on: '2025-01-01', issuing_office: 'IIV' },
        { id: `doc_${citizen.citizenId}_2`, citizen_id: citizen.citizenId, kind: 'id_card', series: 'AD', number: '2222222', issued_on: '2025-01-02', expires_on: '2035-01-01', issuing_office: 'IIV' },
      ])
      .execute();
    const claims = await directory.claims(citizen.citizenId);
    expect(claims).toMatchObject({
      pinfl: citizen.pinfl,
      names: { latn: { given: 'Fuqaro', family: 'Test' }, cyrl: { given: 'Фуқаро', family: 'Тест' } },
      birthdate: '1990-05-17',
      phoneNumber: citizen.phone,
      document: { kind: 'id_card', series: 'AD', number: '2222222', expiresOn: '2035-01-01' },
    });
    expect(claimsFromCitizen('sub-1', claims!)).toMatchObject({ sub: 'sub-1', name: 'Fuqaro Test', 'name#uz-Cyrl': 'Фуқаро Тест', phone_number_verified: true });
    expect(await directory.claims('cit_nobody')).toBeUndefined();
  });

  it('resolves a CIBA login hint only to a citizen with an active phone', async () => {
    const citizen = await enrollCitizen(app.context.db, app.config.publicUrl);
    expect(await directory.resolveLoginHint({ phone: citizen.phone })).toBe(citizen.citizenId);
    expect(await directory.resolveLoginHint({ pinfl: citizen.pinfl })).toBe(citizen.citizenId);
    await app.context.db
      .updateTable('phone_bindings')
      .set({ status: 'revoked', active_phone: null, active_citizen_id: null, ended_at: Date.now() })
      .where('id', '=', citizen.bindingId)
      .execute();
    expect(await directory.resolveLoginHint({ phone: citizen.phone })).toBeUndefined();
    expect(await directory.resolveLoginHint({ pinfl: citizen.pinfl })).toBeUndefined();
    expect(await directory.resolveLoginHint({ pinfl: '00000000000000' })).toBeUndefined();
  });
});
