import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const enrollmentMigrations: ModuleMigration[] = [
  {
    name: '202611250725_enrollment_operators',
    async up(db, { types }) {
      await db.schema
        .createTable('operators')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('name', types.text, (c) => c.notNull())
        .addColumn('office_id', types.id, (c) => c.notNull().references('offices.id'))
        .addColumn('role', types.text, (c) => c.notNull())
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('webauthn_user_id', types.text, (c) => c.notNull().unique())
        .addColumn('created_by', types.text, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('row_version', types.int, (c) => c.notNull().defaultTo(1))
        .addCheckConstraint('operators_role_check', sql`role in ('operator', 'notary', 'supervisor', 'admin')`)
        .addCheckConstraint('operators_status_check', sql`status in ('invited', 'active', 'disabled')`)
        .execute();
      await db.schema.createIndex('operators_office_idx').on('operators').columns(['office_id', 'id']).execute();
      await db.schema
        .createTable('operator_passkeys')
        .addColumn('credential_id', types.id, (c) => c.primaryKey())
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('public_key', types.bytes, (c) => c.notNull())
        .addColumn('counter', types.bigint, (c) => c.notNull())
        .addColumn('transports', types.json, (c) => c.notNull())
        .addColumn('device_type', types.text, (c) => c.notNull())
        .addColumn('backed_up', types.flag, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('last_used_at', types.time)
        .execute();
      await db.schema.createIndex('operator_passkeys_operator_idx').on('operator_passkeys').column('operator_id').execute();
      await db.schema
        .createTable('operator_invitations')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('token_hash', types.text, (c) => c.notNull().unique())
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .addColumn('used_at', types.time)
        .addColumn('created_by', types.text, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('operator_sessions')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('token_hash', types.text, (c) => c.notNull().unique())
        .addColumn('csrf_hash', types.text, (c) => c.notNull())
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('last_seen_at', types.time, (c) => c.notNull())
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .addColumn('ended_at', types.time)
        .execute();
      await db.schema.createIndex('operator_sessions_operator_idx').on('operator_sessions').column('operator_id').execute();
      await db.schema
        .createTable('webauthn_challenges')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('challenge', types.text, (c) => c.notNull())
        .addColumn('purpose', types.text, (c) => c.notNull())
        .addColumn('invitation_id', types.text)
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webauthn_challenges_expires_idx').on('webauthn_challenges').column('expires_at').execute();
    },
  },
  {
    name: '202611250726_enrollment_bindings',
    async up(db, { types }) {
      await db.schema
        .createTable('enrollments')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('citizen_id', types.id, (c) => c.notNull().references('citizens.id'))
        .addColumn('office_id', types.id, (c) => c.notNull().references('offices.id'))
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('assurance', types.text, (c) => c.notNull())
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('live_citizen_id', types.text, (c) => c.unique())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('updated_at', types.time, (c) => c.notNull())
        .addColumn('row_version', types.int, (c) => c.notNull().defaultTo(1))
        .addCheckConstraint('enrollments_status_check', sql`status in ('active', 'suspended', 'revoked')`)
        .addCheckConstraint('enrollments_assurance_check', sql`assurance in ('in_person', 'self_service')`)
        .execute();
      await db.schema.createIndex('enrollments_citizen_idx').on('enrollments').columns(['citizen_id', 'created_at']).execute();
      await db.schema
        .createTable('phone_bindings')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('citizen_id', types.id, (c) => c.notNull().references('citizens.id'))
        .addColumn('enrollment_id', types.id, (c) => c.notNull().references('enrollments.id'))
        .addColumn('phone', types.text, (c) => c.notNull())
        .addColumn('mobile_operator', types.text, (c) => c.notNull())
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('rebind', types.flag, (c) => c.notNull().defaultTo(0))
        .addColumn('code_hash', types.text)
        .addColumn('attempts', types.int, (c) => c.notNull().defaultTo(0))
        .addColumn('code_expires_at', types.time, (c) => c.notNull())
        .addColumn('active_phone', types.text, (c) => c.unique())
        .addColumn('active_citizen_id', types.text, (c) => c.unique())
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('office_id', types.id, (c) => c.notNull().references('offices.id'))
        .addColumn('notification_id', types.text)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('bound_at', types.time)
        .addColumn('ended_at', types.time)
        .addCheckConstraint('phone_bindings_status_check', sql`status in ('pending', 'active', 'replaced', 'revoked', 'abandoned')`)
        .execute();
      await db.schema.createIndex('phone_bindings_citizen_idx').on('phone_bindings').columns(['citizen_id', 'status']).execute();
      await db.schema.createIndex('phone_bindings_phone_idx').on('phone_bindings').columns(['phone', 'status']).execute();
      await db.schema
        .createTable('activation_codes')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('code_hash', types.text, (c) => c.notNull().unique())
        .addColumn('citizen_id', types.id, (c) => c.notNull().references('citizens.id'))
        .addColumn('binding_id', types.id, (c) => c.notNull().references('phone_bindings.id'))
        .addColumn('assurance', types.text, (c) => c.notNull())
        .addColumn('operator_id', types.id, (c) => c.notNull().references('operators.id'))
        .addColumn('office_id', types.id, (c) => c.notNull().references('offices.id'))
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .addColumn('used_at', types.time)
        .addColumn('voided_at', types.time)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('activation_codes_citizen_idx').on('activation_codes').column('citizen_id').execute();
    },
  },
];
