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
  /**
   * JSON `{ channel, recipient, kind?, params? }` of a message to enqueue if this one fails
   * (a push that reached no device falls back to SMS). Cleared once final, like `params`.
   */
  fallback: string | null;
  /**
   * Push only: how long after the push was sent the device has to fetch its request
   * (`markDelivered`) before the fallback is enqueued anyway; null sends it only on failure.
   */
  fallback_after_ms: number | null;
  /** When that time is up for a sent push still waiting; cleared once delivered or fallen back. */
  fallback_due_at: number | null;
}

export type OutboxMessage = Selectable<NotifyOutboxTable>;

export const ATTEMPT_OUTCOMES = ['sent', 'retry', 'failed', 'lease_expired'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One row per delivery attempt, so an operator can see why a message was late or lost. */
export interface NotifyAttemptTable {
  id: string;
  message_id: string;
  attempt: number;
  worker_id: string;
  /** Which connection or provider took it (an SMSC route name, `webpush`, `fcm`, ...). */
  route: string | null;
  outcome: AttemptOutcome;
  error: string | null;
  started_at: number;
  finished_at: number;
  /** SMS segments this attempt submitted (all of them when sent, those accepted before a failure). */
  segments: number | null;
}

/**
 * Provider message ids (one per SMS segment) and their delivery receipts. A receipt can
 * arrive before the worker has recorded the submit; whichever comes second settles the
 * message, so neither order loses the receipt.
 */
export interface NotifyProviderRefTable {
  /** `<route>:<provider message id>`. */
  ref: string;
  message_id: string | null;
  /** SMPP receipt `stat` (DELIVRD, UNDELIV, ...) once it arrived. */
  receipt_status: string | null;
  created_at: number;
  receipt_at: number | null;
  /**
   * The message attempt that got this ref. Settling looks at the latest attempt's refs only,
   * so segments a failed attempt left behind still match their receipts without blocking it.
   */
  attempt: number | null;
}

export const PUSH_TARGET_KINDS = ['webpush', 'fcm', 'apns'] as const;
export type PushTargetKind = (typeof PUSH_TARGET_KINDS)[number];

/** Where a device can be woken: a Web Push subscription, an FCM token or an APNs token. */
export interface NotifyPushTargetTable {
  id: string;
  device_id: string;
  kind: PushTargetKind;
  /** Web Push: the subscription JSON; FCM/APNs: the registration token. */
  address: string;
  /** SHA-256 of `kind:address`, unique, so re-registering the same target is idempotent. */
  address_hash: string;
  created_at: number;
  updated_at: number;
}

/** Development only: SMS texts the `dev` channel "delivered", for demo users and browser tests. */
export interface NotifyDevInboxTable {
  id: string;
  message_id: string;
  recipient: string;
  kind: string;
  text: string;
  segments: number;
  created_at: number;
}

/** One row per named lease: on SQLite a single worker process delivers at a time. */
export interface NotifyWorkerLeaseTable {
  name: string;
  holder: string;
  lease_until: number;
}

export type NotifyAttempt = Selectable<NotifyAttemptTable>;
export type PushTarget = Selectable<NotifyPushTargetTable>;
export type DevInboxMessage = Selectable<NotifyDevInboxTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    notify_outbox: NotifyOutboxTable;
    notify_attempts: NotifyAttemptTable;
    notify_provider_refs: NotifyProviderRefTable;
    notify_push_targets: NotifyPushTargetTable;
    notify_dev_inbox: NotifyDevInboxTable;
    notify_worker_leases: NotifyWorkerLeaseTable;
  }
}
