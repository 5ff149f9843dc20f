import type { Kysely } from 'kysely';
import type { ModuleMigration, MigrationContext } from '../platform/db/migrations.ts';
import { RING_TABLES } from './schema.ts';

async function createStateTable(db: Kysely<unknown>, name: string, { types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable(name)
    .addColumn('model', types.text, (c) => c.notNull())
    .addColumn('id', types.text, (c) => c.notNull())
    .addColumn('payload', types.json, (c) => c.notNull())
    .addColumn('grant_id', types.text)
    .addColumn('uid', types.text)
    .addColumn('expires_at', types.time, (c) => c.notNull())
    .addColumn('consumed_at', types.time)
    .addPrimaryKeyConstraint(`${name}_pk`, ['model', 'id'])
    .execute();
  await db.schema.createIndex(`${name}_grant_idx`).on(name).columns(['grant_id']).execute();
}

export const oidcMigrations: ModuleMigration[] = [
  {
    name: '202611250910_oidc_state',
    async up(db, context) {
      for (const table of RING_TABLES) await createStateTable(db, table, context);
      await createStateTable(db, 'oidc_durable', context);
      await db.schema.createIndex('oidc_durable_expiry_idx').on('oidc_durable').columns(['expires_at']).execute();
      await db.schema.createIndex('oidc_durable_uid_idx').on('oidc_durable').columns(['uid']).execute();
      await db.schema
        .createTable('oidc_ring_slots')
        .addColumn('slot', context.types.int, (c) => c.primaryKey())
        .addColumn('bucket', context.types.bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oidc_key_rotations')
        .addColumn('kid', context.types.id, (c) => c.primaryKey())
        .addColumn('superseded_at', context.types.time, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oidc_consents')
        .addColumn('citizen_id', context.types.id, (c) => c.notNull())
        .addColumn('client_id', context.types.id, (c) => c.notNull())
        .addColumn('scopes', context.types.json, (c) => c.notNull())
        .addColumn('granted_at', context.types.time, (c) => c.notNull())
        .addColumn('withdrawn_at', context.types.time)
        .addPrimaryKeyConstraint('oidc_consents_pk', ['citizen_id', 'client_id'])
        .execute();
    },
  },
  {
    name: '202611250930_oidc_durable_subjects',
    async up(db, { types }) {
      await db.schema.alterTable('oidc_durable').addColumn('account_id', types.id).execute();
      await db.schema.alterTable('oidc_durable').addColumn('client_id', types.id).execute();
      await db.schema.createIndex('oidc_durable_subject_idx').on('oidc_durable').columns(['account_id', 'client_id']).execute();
    },
  },
  {
    name: '202612010800_oidc_consent_claims_ciba_attempts',
    async up(db, { types }) {
      await db.schema.alterTable('oidc_consents').addColumn('claims', types.json, (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema
        .createTable('oidc_ciba_attempts')
        .addColumn('jti', types.id, (c) => c.primaryKey())
        .addColumn('attempt_id', types.id, (c) => c.notNull())
        .addColumn('account_id', types.id, (c) => c.notNull())
        .addColumn('client_id', types.id, (c) => c.notNull())
        .addColumn('acceptable', types.json, (c) => c.notNull())
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oidc_ciba_attempts_expiry_idx').on('oidc_ciba_attempts').columns(['expires_at']).execute();
    },
  },
];
