import type { ModuleMigration } from '../platform/db/migrations.ts';

export const notifyMigrations: ModuleMigration[] = [
  {
    name: '202611250710_notify_outbox',
    async up(db, { types }) {
      await db.schema
        .createTable('notify_outbox')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('channel', types.text, (c) => c.notNull())
        .addColumn('recipient', types.text, (c) => c.notNull())
        .addColumn('locale', types.text, (c) => c.notNull())
        .addColumn('params', types.json, (c) => c.notNull())
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('attempts', types.int, (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', types.int, (c) => c.notNull())
        .addColumn('next_attempt_at', types.time, (c) => c.notNull())
        .addColumn('claimed_by', types.text)
        .addColumn('lease_until', types.time)
        .addColumn('correlation_id', types.text)
        .addColumn('provider_message_id', types.text)
        .addColumn('last_error', types.text)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('updated_at', types.time, (c) => c.notNull())
        .addColumn('sent_at', types.time)
        .addColumn('delivered_at', types.time)
        .execute();
      await db.schema.createIndex('notify_outbox_due_idx').on('notify_outbox').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('notify_outbox_correlation_idx').on('notify_outbox').column('correlation_id').execute();
    },
  },
];
