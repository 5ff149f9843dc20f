import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const auditMigrations: ModuleMigration[] = [
  {
    name: '202611250715_audit_events',
    async up(db, { types }) {
      await db.schema
        .createTable('audit_events')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('at', types.time, (c) => c.notNull())
        .addColumn('actor_type', types.text, (c) => c.notNull())
        .addColumn('actor_id', types.text, (c) => c.notNull())
        .addColumn('office_id', types.text)
        .addColumn('action', types.text, (c) => c.notNull())
        .addColumn('subject_citizen_id', types.text)
        .addColumn('reason', types.text)
        .addColumn('details', types.json, (c) => c.notNull())
        .addColumn('request_id', types.text)
        .addCheckConstraint('audit_events_actor_type_check', sql`actor_type in ('operator', 'citizen', 'device', 'client', 'system')`)
        .execute();
      await db.schema.createIndex('audit_events_citizen_idx').on('audit_events').columns(['subject_citizen_id', 'id']).execute();
      await db.schema.createIndex('audit_events_actor_idx').on('audit_events').columns(['actor_type', 'actor_id', 'id']).execute();
    },
  },
];
