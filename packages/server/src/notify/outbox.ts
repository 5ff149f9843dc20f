import { randomUUID } from 'node:crypto';
import type { Db, Tx } from '../platform/db/index.ts';
import type { Locale } from '../platform/i18n.ts';
import type { NotificationChannel } from './schema.ts';

export interface NotificationInput {
  /** Template key; see templates in this module. */
  readonly kind: string;
  readonly channel: NotificationChannel;
  readonly recipient: string;
  readonly locale: Locale;
  readonly params?: Readonly<Record<string, string | number>>;
  readonly correlationId?: string;
  readonly maxAttempts?: number;
}

/**
 * Writes a message to the outbox. Call it with the transaction that makes the state change
 * the message is about: both commit or neither does.
 */
export async function enqueueNotification(tx: Tx | Db, input: NotificationInput, now: number = Date.now()): Promise<{ id: string }> {
  const id = randomUUID();
  await tx
    .insertInto('notify_outbox')
    .values({
      id,
      kind: input.kind,
      channel: input.channel,
      recipient: input.recipient,
      locale: input.locale,
      params: JSON.stringify(input.params ?? {}),
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
    })
    .execute();
  return { id };
}
