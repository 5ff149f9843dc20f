import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/platform/db/migrations.ts';
import { allMigrations } from '../../src/modules.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';

// Sessions written before 202612031000_auth_signature_parts kept their whole signing input and
// JWS; the migration splits them into the payload, the certificate serial and the signature.
const SPLIT = '202612031000_auth_signature_parts';
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Row {
  [column: string]: unknown;
}

async function columnsOf(database: TestDatabase): Promise<string[]> {
  const query =
    database.dialect === 'postgres'
      ? sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = 'auth_sessions'`
      : sql<{ name: string }>`select name from pragma_table_info('auth_sessions')`;
  return (await query.execute(database.db)).rows.map((r) => r.name);
}

function sessionRow(id: string, extra: Row): Row {
  return {
    id,
    kind: 'auth',
    mode: 'app',
    interaction: 'verification_code_choice',
    state: 'complete',
    result: 'OK',
    client_id: 'portal',
    service_name: 'Portal',
    token_hash: 'ab'.repeat(32),
    vc_attempts: 0,
    otp_attempts: 0,
    created_at: 1,
    expires_at: 2,
    completed_at: 2,
    ...extra,
  };
}

describe.each(testDialects())('splitting stored signatures on %s', (dialect) => {
  let database: TestDatabase | undefined;
  afterEach(async () => database?.dispose());

  async function beforeSplit(): Promise<Kysely<Record<string, Row>>> {
    database = await createTestDatabase(dialect, { migrate: false });
    await migrateToLatest(database.db as never, dialect, allMigrations().filter((m) => m.name < SPLIT));
    return database.db as unknown as Kysely<Record<string, Row>>;
  }

  it('keeps the payload, the serial of the certificate the header names and the signature', async () => {
    const db = await beforeSplit();
    const leaf = randomBytes(300);
    const other = randomBytes(300);
    for (const [serial, der] of [['7a01', leaf], ['7a02', other]] as const) {
      await db.insertInto('device_certificates').values({ serial, device_id: 'dv_1', purpose: 'auth', issuer_kid: 'k1', der, not_before: 0, not_after: 9 }).execute();
    }
    const header = b64url({ alg: 'ES256', typ: 'tasdiq-auth+jws', x5c: [leaf.toString('base64'), randomBytes(200).toString('base64')] });
    const payload = b64url({ sid: 'as_signed', sub: 'PNOUZ-12345678901234' });
    const signature = randomBytes(64).toString('base64url');
    await db
      .insertInto('auth_sessions')
      .values([
        sessionRow('as_signed', { signing_input: `${header}.${payload}`, jws: `${header}.${payload}.${signature}` }),
        sessionRow('as_pending', { state: 'pending', result: null, signing_input: `${header}.${payload}` }),
        sessionRow('as_sms', { mode: 'sms_otp' }),
      ])
      .execute();

    await migrateToLatest(database!.db as never, dialect, allMigrations());

    const rows = await db.selectFrom('auth_sessions').select(['id', 'signing_payload', 'certificate_serial', 'signature']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'as_pending', signing_payload: payload, certificate_serial: '7a01', signature: null },
      { id: 'as_signed', signing_payload: payload, certificate_serial: '7a01', signature },
      { id: 'as_sms', signing_payload: null, certificate_serial: null, signature: null },
    ]);
    const columns = await columnsOf(database!);
    expect(columns).not.toContain('signing_input');
    expect(columns).not.toContain('jws');
  });

  it('stops, changing nothing, at a session whose certificate it does not hold', async () => {
    const db = await beforeSplit();
    const header = b64url({ alg: 'ES256', x5c: [randomBytes(300).toString('base64')] });
    await db.insertInto('auth_sessions').values(sessionRow('as_orphan', { signing_input: `${header}.${b64url({})}` })).execute();

    await expect(migrateToLatest(database!.db as never, dialect, allMigrations())).rejects.toThrow(/auth_signature_parts failed: .*certificate that device_certificates does not hold/);
  });

  it('stops at a signing input that is not <header>.<payload>, rather than reading it again and again', async () => {
    const db = await beforeSplit();
    await db.insertInto('auth_sessions').values(sessionRow('as_mangled', { signing_input: 'no-dot-here' })).execute();
    await expect(migrateToLatest(database!.db as never, dialect, allMigrations())).rejects.toThrow(/auth_signature_parts failed: .*(not JSON|not <header>\.<payload>)/);
    // The migration ran in one transaction: the session keeps what it stored.
    const columns = await columnsOf(database!);
    expect(columns).toContain('signing_input');
    expect(columns).not.toContain('signing_payload');
  });
});
