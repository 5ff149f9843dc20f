import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const deviceMigrations: ModuleMigration[] = [
  {
    name: '202611250800_devices',
    async up(db, { types }) {
      await db.schema
        .createTable('devices')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('citizen_id', types.text, (c) => c.notNull())
        .addColumn('binding_id', types.text, (c) => c.notNull())
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('counter', types.bigint, (c) => c.notNull())
        .addColumn('auth_public_key', types.text, (c) => c.notNull())
        .addColumn('sign_public_key', types.text, (c) => c.notNull())
        .addColumn('auth_cert_serial', types.text, (c) => c.notNull())
        .addColumn('sign_cert_serial', types.text, (c) => c.notNull())
        .addColumn('cert_not_after', types.time, (c) => c.notNull())
        .addColumn('assurance', types.text, (c) => c.notNull())
        .addColumn('label', types.text)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('last_seen_at', types.time)
        .addColumn('revoked_at', types.time)
        .addColumn('revocation_reason', types.text)
        .execute();
      await db.schema.createIndex('devices_citizen_idx').on('devices').columns(['citizen_id', 'status']).execute();
      await db.schema
        .createTable('device_ca_certificates')
        .addColumn('kid', types.id, (c) => c.primaryKey())
        .addColumn('der', types.bytes, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('device_certificates')
        .addColumn('serial', types.id, (c) => c.primaryKey())
        .addColumn('device_id', types.text, (c) => c.notNull())
        .addColumn('purpose', types.text, (c) => c.notNull())
        .addColumn('issuer_kid', types.text, (c) => c.notNull())
        .addColumn('der', types.bytes, (c) => c.notNull())
        .addColumn('not_before', types.time, (c) => c.notNull())
        .addColumn('not_after', types.time, (c) => c.notNull())
        .addColumn('revoked_at', types.time)
        .addColumn('revocation_reason', types.text)
        .execute();
      await db.schema.createIndex('device_certificates_device_idx').on('device_certificates').column('device_id').execute();
      await db.schema.createIndex('device_certificates_revoked_idx').on('device_certificates').column('revoked_at').execute();
    },
  },
  {
    name: '202612010900_devices_key_storage',
    async up(db, { types }) {
      // Existing devices registered WebCrypto or unattested keys: software.
      await db.schema
        .alterTable('devices')
        .addColumn('key_storage', types.text, (c) => c.notNull().defaultTo('software').check(sql`key_storage in ('software', 'hardware')`))
        .execute();
    },
  },
  {
    name: '202612011300_devices_user_verification',
    async up(db, { types }) {
      // The passkey that checks the citizen (PIN or biometrics) before each confirmation, for
      // an app that registered one (the browser app); none for older devices and native apps.
      await db.schema.alterTable('devices').addColumn('uv_credential_id', types.text).execute();
      await db.schema.alterTable('devices').addColumn('uv_public_key', types.text).execute();
    },
  },
];
