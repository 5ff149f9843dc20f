import type { ModuleMigration } from '../platform/db/migrations.ts';

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
];
