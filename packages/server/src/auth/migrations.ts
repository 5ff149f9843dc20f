import type { Kysely } from 'kysely';
import { MigrationError, type ModuleMigration } from '../platform/db/migrations.ts';
import { oneOf } from '../platform/db/partial-index.ts';

/** What the signature-parts migration reads and writes of auth_sessions and device_certificates. */
interface SignaturePartsTables {
  auth_sessions: { id: string; signing_input: string | null; jws: string | null; signing_payload: string | null; certificate_serial: string | null; signature: string | null };
  device_certificates: { serial: string; der: Uint8Array };
}

/**
 * Splits the signing inputs and result JWSs that sessions stored whole into what they keep
 * now: the payload, the serial of the certificate the header names (found by its DER) and
 * the signature. In batches, so a table of a day's sign-ins is not read at once.
 */
async function splitStoredSignatures(db: Kysely<SignaturePartsTables>): Promise<void> {
  const serials = new Map<string, string>();
  const serialOf = async (header: string): Promise<string> => {
    let serial = serials.get(header);
    if (serial) return serial;
    let leaf: string | undefined;
    try {
      leaf = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { x5c?: string[] }).x5c?.[0];
    } catch {
      throw new MigrationError('an auth session stored a signing input whose header is not JSON');
    }
    const row = leaf ? await db.selectFrom('device_certificates').select('serial').where('der', '=', Buffer.from(leaf, 'base64')).executeTakeFirst() : undefined;
    if (!row) throw new MigrationError('an auth session names a certificate that device_certificates does not hold');
    serials.set(header, (serial = row.serial));
    return serial;
  };
  for (;;) {
    const rows = await db.selectFrom('auth_sessions').select(['id', 'signing_input', 'jws']).where('signing_input', 'is not', null).where('signing_payload', 'is', null).limit(500).execute();
    if (rows.length === 0) return;
    for (const row of rows) {
      const [header, payload] = row.signing_input!.split('.');
      // A row left as it was would be read again by the next batch: this one stops instead.
      if (!header || payload === undefined) throw new MigrationError('an auth session stored a signing input that is not <header>.<payload>');
      const signature = row.jws ? row.jws.slice(row.jws.lastIndexOf('.') + 1) : null;
      await db.updateTable('auth_sessions').set({ signing_payload: payload, certificate_serial: await serialOf(header), signature }).where('id', '=', row.id).execute();
    }
  }
}


export const authMigrations: ModuleMigration[] = [
  {
    name: '202611250810_auth_sessions',
    async up(db, { types }) {
      await db.schema
        .createTable('auth_sessions')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('mode', types.text, (c) => c.notNull())
        .addColumn('state', types.text, (c) => c.notNull())
        .addColumn('result', types.text)
        .addColumn('citizen_id', types.text)
        .addColumn('pending_citizen_id', types.text, (c) => c.unique())
        .addColumn('device_id', types.text)
        .addColumn('client_id', types.text, (c) => c.notNull())
        .addColumn('service_name', types.text, (c) => c.notNull())
        .addColumn('reason', types.text)
        .addColumn('token_hash', types.text, (c) => c.notNull())
        .addColumn('signing_input', types.text)
        .addColumn('verification_code', types.text)
        .addColumn('vc_attempts', types.int, (c) => c.notNull().defaultTo(0))
        .addColumn('qr_secret', types.text)
        .addColumn('otp_hash', types.text)
        .addColumn('otp_attempts', types.int, (c) => c.notNull().defaultTo(0))
        .addColumn('notification_id', types.text)
        .addColumn('fallback_notification_id', types.text)
        .addColumn('assurance', types.text)
        .addColumn('document_hash', types.text)
        .addColumn('document_name', types.text)
        .addColumn('jws', types.text)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .addColumn('completed_at', types.time)
        .execute();
      await db.schema.createIndex('auth_sessions_citizen_idx').on('auth_sessions').columns(['citizen_id', 'completed_at']).execute();
      await db.schema.createIndex('auth_sessions_pending_idx').on('auth_sessions').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('auth_sessions_client_idx').on('auth_sessions').columns(['client_id', 'created_at']).execute();
    },
  },
  {
    name: '202611251000_auth_session_interaction',
    async up(db, { types }) {
      await db.schema
        .alterTable('auth_sessions')
        .addColumn('interaction', types.text, (c) => c.notNull().defaultTo('verification_code_choice'))
        .execute();
    },
  },
  {
    // The cool-down probe reads a citizen's recent refusals on every sign-in start: by
    // result, so it touches the few refusals and not every sign-in the citizen made.
    name: '202612010900_auth_refusals_index',
    async up(db) {
      await db.schema.createIndex('auth_sessions_refusals_idx').on('auth_sessions').columns(['citizen_id', 'result', 'completed_at']).execute();
    },
  },
  {
    // A session kept its whole signing input and, once signed, its whole JWS: each time the
    // device's two-kilobyte certificate chain, written twice per sign-in. It keeps the chain's
    // serial instead (see AuthSessionTable.signing_payload).
    name: '202612031000_auth_signature_parts',
    async up(db, { types }) {
      await db.schema.alterTable('auth_sessions').addColumn('signing_payload', types.text).execute();
      await db.schema.alterTable('auth_sessions').addColumn('certificate_serial', types.text).execute();
      await db.schema.alterTable('auth_sessions').addColumn('signature', types.text).execute();
      await splitStoredSignatures(db as Kysely<SignaturePartsTables>);
      await db.schema.alterTable('auth_sessions').dropColumn('signing_input').execute();
      await db.schema.alterTable('auth_sessions').dropColumn('jws').execute();
    },
  },
  {
    // Each index holds only the sessions its query looks for. A completion changes indexed
    // columns, so PostgreSQL wrote a new entry into every index of the table for it: twelve
    // index entries per app sign-in, now six. And the confirm statement, `id = $1 and state =
    // $2`, was planned onto the (state, expires_at) index, which it then walked through every
    // pending session: with no index led by `state`, only the primary key can serve it.
    // Queries name these predicates as constants in their SQL (see oneOf): a bound parameter
    // cannot prove them.
    name: '202612031400_auth_partial_indexes',
    async up(db) {
      for (const old of ['auth_sessions_pending_idx', 'auth_sessions_refusals_idx', 'auth_sessions_citizen_idx', 'auth_sessions_client_idx']) await db.schema.dropIndex(old).execute();
      // The sweeps: pending sessions past their time, and completed ones past the retention.
      await db.schema.createIndex('auth_sessions_pending_expiry_idx').on('auth_sessions').column('expires_at').where(oneOf('state', ['pending'])).execute();
      await db.schema.createIndex('auth_sessions_completed_expiry_idx').on('auth_sessions').column('expires_at').where(oneOf('state', ['complete'])).execute();
      // The cool-down probe on every start reads a citizen's recent refusals, and only those.
      await db.schema.createIndex('auth_sessions_refusals_idx').on('auth_sessions').columns(['citizen_id', 'completed_at']).where(oneOf('result', ['USER_REFUSED', 'WRONG_VC'])).execute();
      // The SMS code limits, per phone and per relying party, count SMS sessions only.
      await db.schema.createIndex('auth_sessions_otp_citizen_idx').on('auth_sessions').columns(['citizen_id', 'created_at']).where(oneOf('mode', ['sms_otp'])).execute();
      await db.schema.createIndex('auth_sessions_otp_client_idx').on('auth_sessions').columns(['client_id', 'created_at']).where(oneOf('mode', ['sms_otp'])).execute();
    },
  },
];
