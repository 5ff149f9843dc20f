import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Db, Tx } from '../platform/db/index.ts';
import type { Locale } from '../platform/i18n.ts';
import type { NotificationChannel, NotificationStatus } from './schema.ts';
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
}

/**
 * Writes a message to the outbox. Call it with the transaction that makes the state change
 * the message is about: both commit or neither does.
 */
export async function enqueueNotification(tx: Tx | Db, input: NotificationInput, now: number = Date.now()): Promise<{ id: string }> {
  const params = input.params ?? {};
  validateTemplateParams(input.kind, params);
  checkRecipient(input.channel, input.recipient);
  if (input.fallback) {
    validateTemplateParams(input.fallback.kind ?? input.kind, input.fallback.params ?? params);
    checkRecipient(input.fallback.channel, input.fallback.recipient);
  }
  const id = randomUUID();
  await tx
    .insertInto('notify_outbox')
    .values({
      id,
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
    })
    .execute();
  // Wakes a worker in this process; it may run before the caller commits, so the worker
  // looks twice (see OutboxWorker) and polling covers workers in other processes.
  setImmediate(() => outboxSignal.emit('enqueued'));
  return { id };
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
