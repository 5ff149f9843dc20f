import type { Selectable } from 'kysely';

export const NOTIFICATION_CHANNELS = ['sms', 'push', 'dev'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export const NOTIFICATION_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/**
 * The transactional outbox: a message is written here in the same transaction as the state
 * change that causes it, so a committed change always has its message and a rolled-back one
 * never does. Workers deliver from here.
 */
export interface NotifyOutboxTable {
  id: string;
  /** Template key, e.g. `enrollment.binding_code`. */
  kind: string;
  channel: NotificationChannel;
  /** E.164 phone number for SMS; device id for push. */
  recipient: string;
  locale: string;
  /** JSON template parameters. Cleared once the message is final: codes must not linger. */
  params: string;
  status: NotificationStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  /** Worker id and lease end while `sending`; a lease that ran out is claimable again. */
  claimed_by: string | null;
  lease_until: number | null;
  /** What the flow that sent it calls it (an auth session id), so it can wait on the status. */
  correlation_id: string | null;
  provider_message_id: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  delivered_at: number | null;
}

export type OutboxMessage = Selectable<NotifyOutboxTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    notify_outbox: NotifyOutboxTable;
  }
}
