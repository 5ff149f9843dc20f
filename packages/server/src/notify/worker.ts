import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Db, Dialect, Tx } from '../platform/db/index.ts';
import { isLocale } from '../platform/i18n.ts';
import type { Logger } from '../platform/logger.ts';
import { DeliveryError, type Channel, type DeliveryResult, type OutgoingMessage } from './channels/channel.ts';
import type { WorkerSettings } from './config.ts';
import { enqueueNotification, type NotificationFallback } from './outbox.ts';
import type { AttemptOutcome, NotificationChannel, OutboxMessage } from './schema.ts';
import { TemplateError } from './templates.ts';

const LEASE_NAME = 'outbox';
const RECEIPT_DELIVERED = 'DELIVRD';
const RECEIPT_FAILED = new Set(['UNDELIV', 'REJECTD', 'EXPIRED', 'DELETED', 'UNKNOWN']);

export interface WorkerCounters {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  delivered: number;
  expired: number;
}

export interface OutboxWorkerOptions {
  readonly db: Db;
  readonly dialect: Dialect;
  readonly logger: Logger;
  readonly settings: WorkerSettings;
  readonly channels: Partial<Record<NotificationChannel, Channel>>;
  readonly now?: () => number;
  readonly workerId?: string;
  /** Called after each message leaves `sending` (tests and the benchmark observe progress). */
  readonly onSettled?: (id: string, status: 'sent' | 'delivered' | 'failed' | 'queued') => void;
}

/**
 * Delivers the outbox. A worker claims a batch in one short statement (FOR UPDATE SKIP
 * LOCKED on PostgreSQL, so several processes never take the same message; SQLite serializes
 * writers and one process at a time holds the `outbox` lease), delivers outside any
 * transaction, then records the outcome. A worker that dies keeps its messages only until
 * their lease ends; the next claim counts the lost attempt and sends again. That is
 * at-least-once: a message is sent twice only when the crash fell between the provider
 * accepting it and the worker recording that.
 */
export class OutboxWorker {
  readonly id: string;
  readonly counters: WorkerCounters = { claimed: 0, sent: 0, retried: 0, failed: 0, delivered: 0, expired: 0 };
  readonly #db: Db;
  readonly #dialect: Dialect;
  readonly #logger: Logger;
  readonly #settings: WorkerSettings;
  readonly #channels: Partial<Record<NotificationChannel, Channel>>;
  readonly #now: () => number;
  readonly #onSettled: OutboxWorkerOptions['onSettled'];
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: OutboxWorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#db = options.db;
    this.#dialect = options.dialect;
    this.#logger = options.logger.child({ worker: this.id });
    this.#settings = options.settings;
    this.#channels = options.channels;
    this.#now = options.now ?? Date.now;
    this.#onSettled = options.onSettled;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Stops claiming, lets the batch in hand finish and be recorded, then gives up the lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    if (this.#dialect === 'sqlite') {
      await this.#db.deleteFrom('notify_worker_leases').where('name', '=', LEASE_NAME).where('holder', '=', this.id).execute();
    }
  }

  /** Wakes the loop now instead of at the next poll (after an enqueue in this process). */
  kick(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let handled = 0;
      try {
        if (await this.holdsLease()) handled = await this.runOnce();
      } catch (error) {
        this.#logger.error({ err: error }, 'outbox pass failed');
      }
      if (this.#stopped) break;
      if (handled < this.#settings.batchSize) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#settings.pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  /**
   * SQLite takes one writer at a time anyway; a lease makes that one worker process, so
   * `serve` and a separate `tasdiq worker` do not fight over the file. PostgreSQL needs none.
   */
  async holdsLease(): Promise<boolean> {
    if (this.#dialect !== 'sqlite') return true;
    const now = this.#now();
    const until = now + this.#settings.leaseMs;
    await this.#db
      .insertInto('notify_worker_leases')
      .values({ name: LEASE_NAME, holder: this.id, lease_until: until })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.id, lease_until: until })
          .where((eb) => eb.or([eb('notify_worker_leases.holder', '=', this.id), eb('notify_worker_leases.lease_until', '<', now)])),
      )
      .execute();
    const row = await this.#db.selectFrom('notify_worker_leases').select('holder').where('name', '=', LEASE_NAME).executeTakeFirst();
    return row?.holder === this.id;
  }

  /** One pass: requeue what dead workers held, claim a batch, deliver it, record it. */
  async runOnce(): Promise<number> {
    await this.#expireLeases();
    const batch = await this.#claim();
    this.counters.claimed += batch.length;
    await Promise.all(batch.map((message) => this.#process(message)));
    return batch.length;
  }

  async #expireLeases(): Promise<void> {
    const now = this.#now();
    const expired = await this.#db
      .updateTable('notify_outbox')
      .set({ status: 'queued', claimed_by: null, lease_until: null, next_attempt_at: now, updated_at: now })
      .where('status', '=', 'sending')
      .where('lease_until', '<', now)
      .returning(['id', 'attempts', 'max_attempts'])
      .execute();
    if (expired.length === 0) return;
    this.counters.expired += expired.length;
    this.#logger.warn({ count: expired.length }, 'requeued messages whose worker stopped answering');
    for (const row of expired) {
      await this.#db.transaction().execute(async (tx) => {
        await this.#recordAttempt(tx, row.id, row.attempts, null, 'lease_expired', 'the worker holding it stopped before recording an outcome', now);
        if (row.attempts >= row.max_attempts) {
          const message = await tx.selectFrom('notify_outbox').selectAll().where('id', '=', row.id).where('status', '=', 'queued').executeTakeFirst();
          if (message) await this.#fail(tx, message, 'attempts exhausted (last attempt lost with its worker)', now);
        }
      });
    }
  }

  async #claim(): Promise<OutboxMessage[]> {
    const now = this.#now();
    const claim = {
      status: 'sending' as const,
      claimed_by: this.id,
      lease_until: now + this.#settings.leaseMs,
      attempts: sql<number>`attempts + 1`,
      updated_at: now,
    };
    if (this.#dialect === 'postgres') {
      // A materialized CTE locks exactly one batch: as an IN (subquery) the planner may rerun
      // the LIMIT ... SKIP LOCKED select and claim far more rows than the batch.
      return this.#db
        .with(
          (cte) => cte('due').materialized(),
          (db) =>
            db
              .selectFrom('notify_outbox')
              .select('id')
              .where('status', '=', 'queued')
              .where('next_attempt_at', '<=', now)
              .orderBy('next_attempt_at')
              .limit(this.#settings.batchSize)
              .forUpdate()
              .skipLocked(),
        )
        .updateTable('notify_outbox')
        .from('due')
        .set(claim)
        .whereRef('notify_outbox.id', '=', 'due.id')
        .returningAll('notify_outbox')
        .execute();
    }
    const due = this.#db
      .selectFrom('notify_outbox')
      .select('id')
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(this.#settings.batchSize);
    return this.#db.updateTable('notify_outbox').set(claim).where('id', 'in', due).where('status', '=', 'queued').returningAll().execute();
  }

  async #process(message: OutboxMessage): Promise<void> {
    const started = this.#now();
    const channel = this.#channels[message.channel];
    let result: DeliveryResult;
    try {
      if (!channel) throw new DeliveryError(`no ${message.channel} channel is configured`, { permanent: true });
      result = await channel.deliver(toOutgoing(message));
    } catch (error) {
      const failure =
        error instanceof DeliveryError
          ? error
          : new DeliveryError(error instanceof TemplateError ? error.message : `unexpected: ${(error as Error).message}`, {
              permanent: error instanceof TemplateError,
            });
      await this.#recordFailure(message, failure, started);
      return;
    }
    await this.#recordSent(message, result, started);
  }

  async #recordSent(message: OutboxMessage, result: DeliveryResult, started: number): Promise<void> {
    const now = this.#now();
    const status = result.delivered ? 'delivered' : 'sent';
    const settled = await this.#db.transaction().execute(async (tx) => {
      // Refs before the outbox row: the receipt path locks in the same order, so the two
      // never deadlock, and whichever commits second sees the other's half.
      for (const ref of result.refs) {
        await tx
          .insertInto('notify_provider_refs')
          .values({ ref, message_id: message.id, receipt_status: null, created_at: now, receipt_at: null })
          .onConflict((oc) => oc.column('ref').doUpdateSet({ message_id: message.id }))
          .execute();
      }
      const updated = await tx
        .updateTable('notify_outbox')
        .set({
          status,
          sent_at: now,
          delivered_at: result.delivered ? now : null,
          provider_message_id: result.refs[0] ?? null,
          claimed_by: null,
          lease_until: null,
          last_error: null,
          // Nothing is rendered from these again: a code must not outlive its message.
          params: '{}',
          fallback: null,
          updated_at: now,
        })
        .where('id', '=', message.id)
        .where('claimed_by', '=', this.id)
        .where('status', '=', 'sending')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        this.#logger.warn({ messageId: message.id }, 'lease lost before recording a send; another worker may send it again');
      }
      await this.#recordAttempt(tx, message.id, message.attempts, result.route, 'sent', null, started);
      return result.delivered ? undefined : this.#settle(tx, message.id, now);
    });
    this.counters.sent += 1;
    if (result.delivered || settled === 'delivered') this.counters.delivered += 1;
    this.#onSettled?.(message.id, status);
    if (settled) this.#onSettled?.(message.id, settled);
  }

  async #recordFailure(message: OutboxMessage, error: DeliveryError, started: number): Promise<void> {
    const now = this.#now();
    const final = error.permanent || message.attempts >= message.max_attempts;
    await this.#db.transaction().execute(async (tx) => {
      if (final) {
        await this.#fail(tx, message, error.message, now);
      } else {
        // Exponential backoff with equal jitter: spreads retries of a burst that failed together.
        const ceiling = Math.min(this.#settings.maxBackoffMs, this.#settings.baseBackoffMs * 2 ** (message.attempts - 1));
        const delay = Math.ceil(ceiling / 2) + randomInt(0, Math.ceil(ceiling / 2) + 1);
        await tx
          .updateTable('notify_outbox')
          .set({ status: 'queued', claimed_by: null, lease_until: null, next_attempt_at: now + delay, last_error: error.message.slice(0, 500), updated_at: now })
          .where('id', '=', message.id)
          .where('claimed_by', '=', this.id)
          .execute();
      }
      await this.#recordAttempt(tx, message.id, message.attempts, error.route ?? null, final ? 'failed' : 'retry', error.message, started);
    });
    if (final) this.counters.failed += 1;
    else this.counters.retried += 1;
    this.#logger.warn({ messageId: message.id, kind: message.kind, attempt: message.attempts, final, reason: error.message }, 'delivery failed');
    this.#onSettled?.(message.id, final ? 'failed' : 'queued');
  }

  /** Marks a message failed for good and, in the same transaction, enqueues its fallback. */
  async #fail(tx: Tx, message: OutboxMessage, reason: string, now: number): Promise<void> {
    await tx
      .updateTable('notify_outbox')
      .set({ status: 'failed', claimed_by: null, lease_until: null, last_error: reason.slice(0, 500), params: '{}', fallback: null, updated_at: now })
      .where('id', '=', message.id)
      .execute();
    if (!message.fallback) return;
    const fallback = JSON.parse(message.fallback) as NotificationFallback;
    const params = (fallback.params ?? JSON.parse(message.params)) as Record<string, string | number>;
    const { id } = await enqueueNotification(
      tx,
      {
        kind: fallback.kind ?? message.kind,
        channel: fallback.channel,
        recipient: fallback.recipient,
        locale: isLocale(message.locale) ? message.locale : 'uz-Latn',
        params,
        ...(message.correlation_id ? { correlationId: message.correlation_id } : {}),
      },
      now,
    );
    this.#logger.info({ messageId: message.id, fallbackId: id, channel: fallback.channel }, 'enqueued fallback');
  }

  async #recordAttempt(tx: Tx | Db, messageId: string, attempt: number, route: string | null, outcome: AttemptOutcome, error: string | null, started: number): Promise<void> {
    await tx
      .insertInto('notify_attempts')
      .values({
        id: randomUUID(),
        message_id: messageId,
        attempt,
        worker_id: this.id,
        route,
        outcome,
        error: error?.slice(0, 500) ?? null,
        started_at: started,
        finished_at: this.#now(),
      })
      .execute();
  }

  /** Records a delivery receipt (from an SMSC) and settles its message when all parts are in. */
  async handleReceipt(ref: string, stat: string): Promise<void> {
    const now = this.#now();
    if (stat !== RECEIPT_DELIVERED && !RECEIPT_FAILED.has(stat)) return; // ENROUTE, ACCEPTD: not final
    const settled = await this.#db.transaction().execute(async (tx) => {
      await tx
        .insertInto('notify_provider_refs')
        .values({ ref, message_id: null, receipt_status: stat, created_at: now, receipt_at: now })
        .onConflict((oc) => oc.column('ref').doUpdateSet({ receipt_status: stat, receipt_at: now }))
        .execute();
      const row = await tx.selectFrom('notify_provider_refs').select('message_id').where('ref', '=', ref).executeTakeFirst();
      if (!row?.message_id) return undefined;
      const status = await this.#settle(tx, row.message_id, now);
      return status ? { status, messageId: row.message_id } : undefined;
    });
    if (settled) {
      if (settled.status === 'delivered') this.counters.delivered += 1;
      this.#onSettled?.(settled.messageId, settled.status);
    }
  }

  async #settle(tx: Tx, messageId: string, now: number): Promise<'delivered' | 'failed' | undefined> {
    let lock = tx.selectFrom('notify_outbox').select(['status']).where('id', '=', messageId);
    if (this.#dialect === 'postgres') lock = lock.forUpdate();
    const message = await lock.executeTakeFirst();
    if (message?.status !== 'sent') return undefined;
    const refs = await tx.selectFrom('notify_provider_refs').select('receipt_status').where('message_id', '=', messageId).execute();
    if (refs.length === 0 || refs.some((r) => r.receipt_status === null)) return undefined;
    const failed = refs.find((r) => r.receipt_status !== RECEIPT_DELIVERED);
    await tx
      .updateTable('notify_outbox')
      .set(
        failed
          ? { status: 'failed', last_error: `receipt: ${failed.receipt_status}`, updated_at: now }
          : { status: 'delivered', delivered_at: now, updated_at: now },
      )
      .where('id', '=', messageId)
      .where('status', '=', 'sent')
      .execute();
    return failed ? 'failed' : 'delivered';
  }
}

function toOutgoing(message: OutboxMessage): OutgoingMessage {
  return {
    id: message.id,
    kind: message.kind,
    recipient: message.recipient,
    locale: isLocale(message.locale) ? message.locale : 'uz-Latn',
    params: JSON.parse(message.params) as Record<string, string | number>,
    correlationId: message.correlation_id,
    attempt: message.attempts,
  };
}
