import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isPostgres, type Database, type Db, type Tx } from '../platform/db/index.ts';
import type { Locale } from '../platform/i18n.ts';
import { sql, type Expression, type ExpressionBuilder, type QueryCreator, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { prepared } from '../platform/db/prepared.ts';
import type { NotificationChannel, NotificationStatus, OutboxMessage } from './schema.ts';
import { TemplateError, validateTemplateParams } from './templates.ts';

/** What to send instead when a message fails for good (a push that reached no device). */
export interface NotificationFallback {
  readonly channel: NotificationChannel;
  readonly recipient: string;
  /** Defaults to the failed message's kind and params. */
  readonly kind?: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface NotificationInput {
  /** Template key; see templates in this module. */
  readonly kind: string;
  readonly channel: NotificationChannel;
  readonly recipient: string;
  readonly locale: Locale;
  readonly params?: Readonly<Record<string, string | number>>;
  readonly correlationId?: string;
  readonly maxAttempts?: number;
  readonly fallback?: NotificationFallback;
  /**
   * Push only, with a `fallback`: if the device has not fetched its request (`markDelivered`)
   * this long after the push was sent, the fallback is enqueued anyway (a push the provider
   * accepted but the phone never showed). Without it the fallback goes only if the push fails.
   */
  readonly fallbackAfterMs?: number;
}

/** The longest a push may wait for its device before its fallback: a sign-in does not wait longer. */
export const MAX_FALLBACK_AFTER_MS = 600_000;

/**
 * Writes a message to the outbox. Call it with the transaction that makes the state change
 * the message is about: both commit or neither does.
 */
export async function enqueueNotification(tx: Tx | Db, input: NotificationInput, now: number = Date.now()): Promise<{ id: string }> {
  const row = notificationRow(input, now);
  await tx.insertInto('notify_outbox').values(row).execute();
  signalEnqueued();
  return { id: row.id };
}

/**
 * The outbox row for a message, validated (template parameters, recipients), for writers that
 * put it into a statement of their own; they call `signalEnqueued` once it is written (or pass
 * it through `claimOnWrite`, which says what to call).
 */
export function notificationRow(input: NotificationInput, now: number): OutboxMessage {
  const params = input.params ?? {};
  validateTemplateParams(input.kind, params);
  checkRecipient(input.channel, input.recipient);
  if (input.fallback) {
    validateTemplateParams(input.fallback.kind ?? input.kind, input.fallback.params ?? params);
    checkRecipient(input.fallback.channel, input.fallback.recipient);
  }
  if (input.fallbackAfterMs !== undefined) {
    if (input.channel !== 'push') throw new TemplateError('fallbackAfterMs is for push messages');
    if (!input.fallback) throw new TemplateError('fallbackAfterMs needs a fallback');
    if (!Number.isInteger(input.fallbackAfterMs) || input.fallbackAfterMs < 1 || input.fallbackAfterMs > MAX_FALLBACK_AFTER_MS) {
      throw new TemplateError(`fallbackAfterMs must be an integer from 1 to ${MAX_FALLBACK_AFTER_MS}`);
    }
  }
  return {
    id: randomUUID(),
    kind: input.kind,
    channel: input.channel,
    recipient: input.recipient,
    locale: input.locale,
    params: JSON.stringify(params),
    status: 'queued',
    attempts: 0,
    max_attempts: input.maxAttempts ?? 5,
    next_attempt_at: now,
    claimed_by: null,
    lease_until: null,
    correlation_id: input.correlationId ?? null,
    provider_message_id: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    sent_at: null,
    delivered_at: null,
    fallback: input.fallback ? JSON.stringify(input.fallback) : null,
    fallback_after_ms: input.fallbackAfterMs ?? null,
    fallback_due_at: null,
  };
}

/**
 * Wakes a worker in this process. Inside a transaction it may run before the caller commits,
 * so the worker looks twice (see OutboxWorker); `committed` (a writer that signals after its
 * statement committed) lets it look once, at once. Polling covers workers in other processes.
 */
export function signalEnqueued(committed = false): void {
  setImmediate(() => outboxSignal.emit('enqueued', committed));
}

/** Emits `enqueued` after each enqueue in this process, so a local worker need not wait for its poll. */
export const outboxSignal = new EventEmitter().setMaxListeners(100);

const E164 = /^\+[1-9]\d{7,14}$/;

function checkRecipient(channel: NotificationChannel, recipient: string): void {
  if (typeof recipient !== 'string' || recipient.length === 0 || recipient.length > 128) throw new TemplateError('recipient is missing');
  if ((channel === 'sms' || channel === 'dev') && !E164.test(recipient)) throw new TemplateError(`${channel} recipient must be an E.164 number`);
}

/** The delivery status a flow waits on; undefined for an unknown id. */
export async function getNotificationStatus(db: Tx | Db, id: string): Promise<NotificationStatus | undefined> {
  const row = await db.selectFrom('notify_outbox').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status;
}

/**
 * The device fetched the request its push woke it for: the push under `correlationId` (or
 * each of several) is `delivered` and its pending fallback (`fallbackAfterMs`) will not be
 * sent. A push still being sent is stamped and turns delivered when its send is recorded; one
 * still queued (the app was opened by hand) is not sent at all. One statement, whatever the
 * state of each message. Returns how many messages it settled or stamped.
 */
export async function markDelivered(db: Tx | Db, correlationId: string | readonly string[], channel: 'push', now: number = Date.now()): Promise<number> {
  const ids = (typeof correlationId === 'string' ? [correlationId] : correlationId).filter((id) => typeof id === 'string' && id.length > 0);
  if (ids.length === 0) return 0;
  const updated = isPostgres(db)
    ? await markDeliveredOnPostgres(db, { ids, channel, now })
    : await db.executeQuery(markDeliveredStatement(db, (w) => w('correlation_id', 'in', ids), channel, now, false).compile());
  return Number(updated.numAffectedRows ?? 0);
}

/**
 * markDelivered's UPDATE for the pushes `correlated` picks; a route on PostgreSQL may run it as
 * a CTE of its own statement (the device's pending fetch does).
 */
export function markDeliveredStatement(db: QueryCreator<Database>, correlated: (w: ExpressionBuilder<Database, 'notify_outbox'>) => Expression<SqlBool>, channel: 'push', now: number, lockRows: boolean) {
  const settles = (eb: ExpressionBuilder<Database, 'notify_outbox'>) => eb('status', 'in', ['queued', 'sent']);
  // A message settled now drops what only a send or a fallback needed; one being sent keeps
  // them for its worker, whose record of the send then sees the stamp.
  return db
    .updateTable('notify_outbox')
    .set((eb) => ({
      status: eb.case().when(settles(eb)).then('delivered' as NotificationStatus).else(eb.ref('status')).end(),
      delivered_at: now,
      params: eb.case().when(settles(eb)).then('{}').else(eb.ref('params')).end(),
      fallback: eb.case().when(settles(eb)).then(null).else(eb.ref('fallback')).end(),
      fallback_due_at: eb.case().when(settles(eb)).then(null).else(eb.ref('fallback_due_at')).end(),
      claimed_by: eb.case().when(settles(eb)).then(null).else(eb.ref('claimed_by')).end(),
      lease_until: eb.case().when(settles(eb)).then(null).else(eb.ref('lease_until')).end(),
      updated_at: now,
    }))
    .where('id', 'in', (eb) =>
      inIdOrder(
        eb
          .selectFrom('notify_outbox')
          .select('id')
          .where(correlated)
          .where('channel', '=', channel)
          .where((w) => w.or([w('status', 'in', ['queued', 'sent']), w.and([w('status', '=', 'sending'), w('delivered_at', 'is', null)])])),
        lockRows,
      ),
    );
}

/**
 * The outbox rows `rows` selects and, with `lockRows` (PostgreSQL), locked in id order. Every
 * statement that locks several outbox rows takes them through this (a device's fetch marking
 * its push delivered, a worker recording its sends, renewing or expiring leases, firing due
 * fallbacks), so no two of them can deadlock: left to its plan, PostgreSQL locks rows in the
 * order it visits them, and a bitmap or sequential scan visits them in their physical order,
 * which updates keep changing. SQLite locks the whole database instead, and there the order
 * would only lead its planner to walk the whole outbox by primary key to avoid a sort.
 */
export function inIdOrder<Row extends { id: string }>(rows: SelectQueryBuilder<Database, 'notify_outbox', Row>, lockRows: boolean): SelectQueryBuilder<Database, 'notify_outbox', Row> {
  return lockRows ? rows.orderBy('id').forUpdate() : rows;
}

/**
 * markDelivered's statement on PostgreSQL, compiled once: the ids travel as one array
 * parameter, so the statement is the same for a burst of any size.
 */
const markDeliveredOnPostgres = prepared((db: Db, args: { ids: readonly string[]; channel: 'push'; now: number }) =>
  markDeliveredStatement(db, (w) => w('correlation_id', '=', sql<string>`any(${args.ids}::text[])`), args.channel, args.now, true),
);

/** Statuses of every message sent under one correlation id (an auth session), oldest first. */
export async function getNotificationsByCorrelation(
  db: Tx | Db,
  correlationId: string,
): Promise<Array<{ id: string; channel: NotificationChannel; status: NotificationStatus }>> {
  return db
    .selectFrom('notify_outbox')
    .select(['id', 'channel', 'status'])
    .where('correlation_id', '=', correlationId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * Waits until a message reaches one of `statuses` (default: any final one) or the time is
 * up, polling the database, so it works across processes. Returns the last status seen.
 */
export async function waitForNotification(
  db: Tx | Db,
  id: string,
  options: { statuses?: readonly NotificationStatus[]; timeoutMs?: number; pollMs?: number } = {},
): Promise<NotificationStatus | undefined> {
  const statuses = options.statuses ?? ['sent', 'delivered', 'failed'];
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const status = await getNotificationStatus(db, id);
    if (status === undefined || statuses.includes(status) || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
