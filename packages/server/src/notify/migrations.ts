import { sql, type SqlBool } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';
import { oneOf } from '../platform/db/partial-index.ts';

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
  {
    name: '202611250720_notify_delivery',
    async up(db, { types }) {
      await db.schema.alterTable('notify_outbox').addColumn('fallback', types.json).execute();
      await db.schema.createIndex('notify_outbox_provider_idx').on('notify_outbox').column('provider_message_id').execute();
      await db.schema
        .createTable('notify_attempts')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('message_id', types.text, (c) => c.notNull())
        .addColumn('attempt', types.int, (c) => c.notNull())
        .addColumn('worker_id', types.text, (c) => c.notNull())
        .addColumn('route', types.text)
        .addColumn('outcome', types.text, (c) => c.notNull())
        .addColumn('error', types.text)
        .addColumn('started_at', types.time, (c) => c.notNull())
        .addColumn('finished_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notify_attempts_message_idx').on('notify_attempts').columns(['message_id', 'attempt']).execute();
      await db.schema
        .createTable('notify_provider_refs')
        .addColumn('ref', types.text, (c) => c.primaryKey())
        .addColumn('message_id', types.text)
        .addColumn('receipt_status', types.text)
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('receipt_at', types.time)
        .execute();
      await db.schema.createIndex('notify_provider_refs_message_idx').on('notify_provider_refs').column('message_id').execute();
      await db.schema
        .createTable('notify_push_targets')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('device_id', types.text, (c) => c.notNull())
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('address', types.text, (c) => c.notNull())
        .addColumn('address_hash', types.text, (c) => c.notNull().unique())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('updated_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notify_push_targets_device_idx').on('notify_push_targets').column('device_id').execute();
      await db.schema
        .createTable('notify_dev_inbox')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('message_id', types.text, (c) => c.notNull())
        .addColumn('recipient', types.text, (c) => c.notNull())
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('text', types.text, (c) => c.notNull())
        .addColumn('segments', types.int, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notify_dev_inbox_recipient_idx').on('notify_dev_inbox').columns(['recipient', 'created_at']).execute();
      await db.schema
        .createTable('notify_worker_leases')
        .addColumn('name', types.text, (c) => c.primaryKey())
        .addColumn('holder', types.text, (c) => c.notNull())
        .addColumn('lease_until', types.time, (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '202611251200_notify_delivery_tracking',
    async up(db, { types }) {
      // A push may wait this long for the device to fetch its request before its fallback goes.
      await db.schema.alterTable('notify_outbox').addColumn('fallback_after_ms', types.int).execute();
      await db.schema.alterTable('notify_outbox').addColumn('fallback_due_at', types.time).execute();
      await db.schema.createIndex('notify_outbox_fallback_due_idx').on('notify_outbox').column('fallback_due_at').execute();
      // SMS segments an attempt put on the air (what an operator bills).
      await db.schema.alterTable('notify_attempts').addColumn('segments', types.int).execute();
      // Which attempt a provider ref belongs to: a partly sent long SMS keeps its segments' refs.
      await db.schema.alterTable('notify_provider_refs').addColumn('attempt', types.int).execute();
    },
  },
  {
    // Each index holds only the messages its query looks for. A message changes status twice
    // after it is written, and each change wrote a new entry into every index of the outbox
    // (status is indexed, so PostgreSQL cannot update in place): fifteen entries per push, now
    // eight. provider_message_id had an index no query used (receipts find their message
    // through notify_provider_refs). Queries name these predicates as constants in their SQL
    // (see oneOf): a bound parameter cannot prove them.
    name: '202612031401_notify_partial_indexes',
    async up(db) {
      for (const old of ['notify_outbox_due_idx', 'notify_outbox_provider_idx', 'notify_outbox_fallback_due_idx']) await db.schema.dropIndex(old).execute();
      // What the workers claim, what a lapsed lease gives back, what the retention purges.
      await db.schema.createIndex('notify_outbox_queued_idx').on('notify_outbox').column('next_attempt_at').where(oneOf('status', ['queued'])).execute();
      await db.schema.createIndex('notify_outbox_sending_idx').on('notify_outbox').column('lease_until').where(oneOf('status', ['sending'])).execute();
      await db.schema.createIndex('notify_outbox_settled_idx').on('notify_outbox').column('updated_at').where(oneOf('status', ['sent', 'delivered', 'failed'])).execute();
      // Failures for good, which end the sign-ins they were for (AuthService.failUndelivered).
      await db.schema.createIndex('notify_outbox_failed_idx').on('notify_outbox').column('updated_at').where(oneOf('status', ['failed'])).execute();
      // Pushes the provider took that wait for the phone to act before their fallback goes.
      await db.schema
        .createIndex('notify_outbox_fallback_due_idx')
        .on('notify_outbox')
        .column('fallback_due_at')
        .where(sql<SqlBool>`${oneOf('status', ['sent'])} and ${sql.ref('fallback_due_at')} is not null`)
        .execute();
    },
  },
];
