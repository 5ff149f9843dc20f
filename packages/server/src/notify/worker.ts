import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { isPostgres, type Db, type Dialect, type Tx } from '../platform/db/index.ts';
import { prepared } from '../platform/db/prepared.ts';
import { oneOf } from '../platform/db/partial-index.ts';
import { isLocale } from '../platform/i18n.ts';
import type { Logger } from '../platform/logger.ts';
import { DeliveryError, type Channel, type DeliveryResult, type OutgoingMessage } from './channels/channel.ts';
import type { WorkerSettings } from './config.ts';
import { enqueueNotification, inIdOrder, outboxSignal, type NotificationFallback } from './outbox.ts';
import { offerLocalClaimant, withdrawLocalClaimant, type LocalClaimant } from './local-delivery.ts';
import type { AttemptOutcome, NotificationChannel, NotificationStatus, OutboxMessage } from './schema.ts';
import { TemplateError } from './templates.ts';
import { GroupCommit } from '../platform/group-commit.ts';
import type { NotifyMetrics } from './metrics.ts';

const LEASE_NAME = 'outbox';
const PURGE_EVERY_MS = 3_600_000;
const PURGE_BATCH = 1_000;
/** Development texts hold codes; they are for the demo in hand, not for keeping. */
const DEV_INBOX_RETENTION_MS = 86_400_000;
/** Waits before recording an outcome again after its group's transaction failed. */
const RECORD_RETRY_DELAYS_MS = [50, 250, 1_000];
/** Pushes whose fallback time is up, handled per pass. */
const FALLBACK_BATCH = 100;
const FALLBACK_CHECK_MS = 100;
/**
 * Leases last tens of seconds: looking for lapsed ones once a second finds a dead worker's
 * messages soon enough, and spares a busy loop a transaction on every pass.
 */
const LEASE_EXPIRY_CHECK_MS = 1_000;
const RECEIPT_DELIVERED = 'DELIVRD';
const RECEIPT_FAILED = new Set(['UNDELIV', 'REJECTD', 'EXPIRED', 'DELETED', 'UNKNOWN']);

export interface WorkerCounters {
  claimed: number;
  /** Of those, taken from their writer in this process (see LocalClaimant), without a claim statement. */
  handedOver: number;
  sent: number;
  retried: number;
  failed: number;
  delivered: number;
  expired: number;
  /** Pushes not delivered within their `fallbackAfterMs`, whose fallback was enqueued. */
  fellBack: number;
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
  readonly metrics?: NotifyMetrics;
}

/** How long a group of send records waits for more on PostgreSQL before it is written (measured: see docs/benchmarks.md). */
const SENT_LINGER_MS = 10;

/**
 * Delivers the outbox. A worker claims a batch in one short statement (FOR UPDATE SKIP
 * LOCKED on PostgreSQL, so several processes never take the same message; SQLite serializes
 * writers and one process at a time holds the `outbox` lease), delivers outside any
 * transaction, then records the outcome. A worker that dies keeps its messages only until
 * their lease ends; the next claim counts the lost attempt and sends again. That is
 * at-least-once: a message is sent twice only when the crash fell between the provider
 * accepting it and the worker recording that.
 */
export class OutboxWorker implements LocalClaimant {
  readonly id: string;
  readonly counters: WorkerCounters = { claimed: 0, handedOver: 0, sent: 0, retried: 0, failed: 0, delivered: 0, expired: 0, fellBack: 0 };
  readonly #db: Db;
  readonly #dialect: Dialect;
  readonly #logger: Logger;
  readonly #settings: WorkerSettings;
  readonly #channels: Partial<Record<NotificationChannel, Channel>>;
  readonly #now: () => number;
  readonly #onSettled: OutboxWorkerOptions['onSettled'];
  readonly #metrics: NotifyMetrics | undefined;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #leaseHeldUntil = 0;
  #lastPurge = 0;
  #lastFallbackCheck = 0;
  #lastLeaseExpiry = 0;
  /** Ids of the messages this worker is delivering or recording now: the leases it renews. */
  readonly #holding = new Set<string>();
  /** Their deliveries, claimed or handed over. */
  readonly #inFlight = new Set<Promise<void>>();
  /** The last pass had too little room to claim, so any delivery that ends wakes the loop. */
  #waitingForRoom = false;
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #signalPending = false;
  /** Set by a kick that arrived while the loop was busy, so its next sleep is skipped. */
  #kicked = false;
  /**
   * Sends are recorded in groups. On PostgreSQL a group waits a moment for company: every
   * sign-in sends a push, each statement is a round trip and CPU on a shared database, and
   * the record only moves the message on (its fallback's due time, its attempt); nothing a
   * citizen waits for waits on it, and a receipt that comes first is kept (flushSent). On
   * SQLite a statement is a call in this process, and waiting only holds the worker's slots.
   */
  readonly #sentLog: GroupCommit<SentRecord, SentOutcome>;
  readonly #receiptLog = new GroupCommit<{ ref: string; stat: string }, void>((items) => this.#flushReceipts(items));

  constructor(options: OutboxWorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#db = options.db;
    this.#dialect = options.dialect;
    this.#sentLog = new GroupCommit((items) => this.#flushSent(items), { lingerMs: options.dialect === 'postgres' ? SENT_LINGER_MS : 0 });
    this.#logger = options.logger.child({ worker: this.id });
    this.#settings = options.settings;
    this.#channels = options.channels;
    this.#now = options.now ?? Date.now;
    this.#onSettled = options.onSettled;
    this.#metrics = options.metrics;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    outboxSignal.on('enqueued', this.#onEnqueued);
    // Leases are renewed on their own clock, not on loop passes: a pass can wait a whole
    // poll interval (or longer, on a slow database), and a lease must not lapse meanwhile.
    this.#renewTimer = setInterval(() => void this.#renewLeases(), Math.max(20, Math.floor(this.#settings.leaseMs / 3)));
    this.#renewTimer.unref();
    this.#loop = this.#run();
    offerLocalClaimant(this.#db, this);
  }

  /**
   * A local enqueue may not have committed yet when its signal arrives, so look now and
   * once more shortly after (once, at once, when the writer says it committed); the poll
   * remains the backstop.
   */
  readonly #onEnqueued = (committed = false): void => {
    if (committed) return this.kick();
    if (this.#signalPending) return;
    this.#signalPending = true;
    setTimeout(() => this.kick(), 2);
    setTimeout(() => {
      this.#signalPending = false;
      this.kick();
    }, 15);
  };

  /** Stops claiming, lets the batch in hand finish and be recorded, then gives up the lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    withdrawLocalClaimant(this.#db, this);
    outboxSignal.off('enqueued', this.#onEnqueued);
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    await Promise.allSettled([...this.#inFlight]);
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
    await this.#renewing;
    await this.#receiptLog.idle();
    if (this.#dialect === 'sqlite') {
      this.#leaseHeldUntil = 0;
      await this.#db.deleteFrom('notify_worker_leases').where('name', '=', LEASE_NAME).where('holder', '=', this.id).execute();
    }
  }

  /** Wakes the loop now instead of at the next poll (after an enqueue in this process). */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /**
   * Keeps up to `batchSize` messages in flight: claims again once half of them are done,
   * so a slow message does not hold up the next batch.
   */
  async #run(): Promise<void> {
    const half = Math.ceil(this.#settings.batchSize / 2);
    while (!this.#stopped) {
      this.#kicked = false;
      const room = this.#settings.batchSize - this.#inFlight.size;
      let claimed = 0;
      try {
        // Asked every pass, busy or not: on SQLite the lease must not lapse while this
        // worker is full, or a second process would start delivering beside it.
        const leader = await this.holdsLease();
        if (leader) await this.#fireDueFallbacks();
        this.#waitingForRoom = leader && room < half;
        if (leader && room >= half) {
          if (this.#now() - this.#lastPurge > PURGE_EVERY_MS) {
            this.#lastPurge = this.#now();
            await this.purge();
          }
          if (this.#now() - this.#lastLeaseExpiry >= Math.min(LEASE_EXPIRY_CHECK_MS, this.#settings.leaseMs / 2)) {
            this.#lastLeaseExpiry = this.#now();
            await this.#expireLeases();
          }
          const batch = await this.#claim(room);
          claimed = batch.length;
          this.counters.claimed += claimed;
          if (claimed > 0) this.#metrics?.taken.inc({ how: 'claimed' }, claimed);
          for (const message of batch) this.#deliver(message, true);
        }
      } catch (error) {
        this.#logger.error({ err: error }, 'outbox pass failed');
      }
      if (this.#stopped) break;
      if ((claimed === 0 || claimed < room) && !this.#kicked) {
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
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Delivers a message and records its outcome, renewing its lease meanwhile. `claimed`: it
   * came from a claim, whose end wakes the loop to claim again (messages arrive while it is
   * out, their signals throttled). A delivery handed over by its writer wakes the loop only
   * when a pass waited for room: it says nothing new, so no empty claim follows each one.
   */
  #deliver(message: OutboxMessage, claimed: boolean): void {
    this.#holding.add(message.id);
    const task: Promise<void> = this.#process(message)
      .catch((error: unknown) => this.#logger.error({ err: error, messageId: message.id }, 'recording an outcome failed; its lease will lapse and requeue it'))
      .finally(() => {
        // No longer renewed: if its outcome was never recorded, the lease runs out and
        // the next pass requeues it (or fails it at the bound) instead of it staying
        // `sending` for as long as this worker lives.
        this.#holding.delete(message.id);
        this.#inFlight.delete(task);
        if ((claimed || this.#waitingForRoom) && this.#inFlight.size <= Math.floor(this.#settings.batchSize / 2)) this.#wake?.();
      });
    this.#inFlight.add(task);
  }

  /** LocalClaimant: a lease while this worker runs (on SQLite, holds the outbox lease) and has room. */
  leaseFor(now: number): number | undefined {
    if (this.#stopped || this.#inFlight.size >= this.#settings.batchSize) return undefined;
    if (this.#dialect === 'sqlite' && now >= this.#leaseHeldUntil) return undefined;
    return now + this.#settings.leaseMs;
  }

  /** LocalClaimant: a committed message written claimed by this worker. */
  take(message: OutboxMessage): void {
    if (this.#stopped) {
      // Stopped between the offer and the commit: the message goes back to the queue for any worker.
      void this.#db
        .updateTable('notify_outbox')
        .set({ status: 'queued', claimed_by: null, lease_until: null, attempts: message.attempts - 1, updated_at: this.#now() })
        .where('id', '=', message.id)
        .where('claimed_by', '=', this.id)
        .where('status', '=', 'sending')
        .execute()
        .catch((error: unknown) => this.#logger.warn({ err: error, messageId: message.id }, 'returning a handed-over message failed; its lease will lapse and requeue it'));
      return;
    }
    this.counters.claimed += 1;
    this.counters.handedOver += 1;
    this.#metrics?.taken.inc({ how: 'handed_over' });
    this.#deliver(message, false);
  }

  /**
   * SQLite takes one writer at a time anyway; a lease makes that one worker process, so
   * `serve` and a separate `tasdiq worker` do not fight over the file. PostgreSQL needs none.
   */
  async holdsLease(): Promise<boolean> {
    if (this.#dialect !== 'sqlite') return true;
    const now = this.#now();
    // Renew at half-life only: nobody else takes a lease before it lapses.
    if (now < this.#leaseHeldUntil - this.#settings.leaseMs / 2) return true;
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
    this.#leaseHeldUntil = row?.holder === this.id ? until : 0;
    return row?.holder === this.id;
  }

  /** One pass without the loop (tests): requeue what dead workers held, claim, deliver, record. */
  async runOnce(): Promise<number> {
    await this.#fireDueFallbacks();
    await this.#expireLeases();
    const batch = await this.#claim(this.#settings.batchSize);
    this.counters.claimed += batch.length;
    for (const message of batch) this.#holding.add(message.id);
    await Promise.all(batch.map((message) => this.#process(message).finally(() => this.#holding.delete(message.id))));
    return batch.length;
  }

  /**
   * Deletes messages finished longer ago than the retention (with their attempts and
   * provider refs), development texts after a day, and receipts that never matched a
   * message. Works in bounded batches so it never holds the database for long.
   */
  async purge(now: number = this.#now()): Promise<number> {
    const cutoff = now - this.#settings.retentionMs;
    let removed = 0;
    for (;;) {
      const ids = (
        await this.#db
          .selectFrom('notify_outbox')
          .select('id')
          .where(oneOf('status', ['sent', 'delivered', 'failed']))
          .where('updated_at', '<', cutoff)
          .limit(PURGE_BATCH)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) break;
      await this.#db.transaction().execute(async (tx) => {
        await tx.deleteFrom('notify_attempts').where('message_id', 'in', ids).execute();
        await tx.deleteFrom('notify_provider_refs').where('message_id', 'in', ids).execute();
        await tx.deleteFrom('notify_outbox').where('id', 'in', ids).execute();
      });
      removed += ids.length;
      if (ids.length < PURGE_BATCH) break;
    }
    await this.#db.deleteFrom('notify_dev_inbox').where('created_at', '<', now - DEV_INBOX_RETENTION_MS).execute();
    // A revoked app is never woken again, whether or not its revocation removed its targets.
    await this.#db
      .deleteFrom('notify_push_targets')
      .where('device_id', 'in', (eb) => eb.selectFrom('devices').select('id').where('status', '=', 'revoked'))
      .execute();
    await this.#db.deleteFrom('notify_provider_refs').where('message_id', 'is', null).where('created_at', '<', now - DEV_INBOX_RETENTION_MS).execute();
    if (removed > 0) this.#logger.info({ removed }, 'purged finished notifications past retention');
    return removed;
  }

  /**
   * Extends the leases of exactly the messages this worker is delivering or recording now (a
   * slow SMSC window, a long throttle), so a live worker never has its own messages taken
   * back and sent twice; only a dead one's lapse. A message whose outcome could not be
   * recorded leaves that set, so its lease runs out and it is requeued rather than kept
   * `sending` forever. On SQLite it also keeps the worker's `outbox` lease while it holds it.
   */
  async #renewLeases(): Promise<void> {
    if (this.#renewing) return;
    const run = async () => {
      const now = this.#now();
      if (this.#dialect === 'sqlite' && this.#leaseHeldUntil > 0) await this.holdsLease();
      const ids = [...this.#holding];
      for (let i = 0; i < ids.length; i += 500) await renewLeasesStatement(this.#db, ids.slice(i, i + 500), this.id, now + this.#settings.leaseMs).execute();
    };
    this.#renewing = run()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'renewing leases failed; trying again shortly'))
      .finally(() => (this.#renewing = undefined));
    await this.#renewing;
  }

  /**
   * Takes back messages whose worker stopped renewing their lease, in one statement: each
   * goes back to the queue, or fails if that was its last attempt (or turns delivered if its
   * device fetched the request meanwhile). Its lost attempt, and the fallback of one that
   * failed, are written in the same transaction.
   */
  async #expireLeases(): Promise<void> {
    const now = this.#now();
    const exhausted = 'attempts exhausted (last attempt lost with its worker)';
    const expired = await this.#db.transaction().execute(async (tx) => {
      const rows = await tx
        .updateTable('notify_outbox')
        .set((eb) => ({
          status: eb
            .case()
            .when('delivered_at', 'is not', null)
            .then('delivered' as NotificationStatus)
            .when('attempts', '>=', eb.ref('max_attempts'))
            .then('failed' as NotificationStatus)
            .else('queued' as NotificationStatus)
            .end(),
          last_error: eb
            .case()
            .when(eb.and([eb('delivered_at', 'is', null), eb('attempts', '>=', eb.ref('max_attempts'))]))
            .then(exhausted)
            .else(eb.ref('last_error'))
            .end(),
          claimed_by: null,
          lease_until: null,
          next_attempt_at: now,
          updated_at: now,
        }))
        .where('id', 'in', (eb) => inIdOrder(eb.selectFrom('notify_outbox').select('id').where(oneOf('status', ['sending'])).where('lease_until', '<', now), isPostgres(tx)))
        .where('status', '=', 'sending')
        .where('lease_until', '<', now)
        .returning(['id', 'status', 'attempts', 'kind', 'locale', 'params', 'fallback', 'correlation_id'])
        .execute();
      if (rows.length === 0) return rows;
      await tx
        .insertInto('notify_attempts')
        .values(
          rows.map((row) => ({
            id: randomUUID(),
            message_id: row.id,
            attempt: row.attempts,
            worker_id: this.id,
            route: null,
            outcome: 'lease_expired' as const,
            error: 'the worker holding it stopped before recording an outcome',
            started_at: now,
            finished_at: now,
            segments: null,
          })),
        )
        .execute();
      const finished = rows.filter((r) => r.status !== 'queued');
      if (finished.length > 0) {
        await tx
          .updateTable('notify_outbox')
          .set({ params: '{}', fallback: null, fallback_due_at: null })
          .where('id', 'in', finished.map((r) => r.id))
          .execute();
        for (const row of finished) if (row.status === 'failed') await this.#enqueueFallback(tx, row, now);
      }
      return rows;
    });
    if (expired.length === 0) return;
    this.counters.expired += expired.length;
    this.#metrics?.outcomes.inc({ channel: 'any', outcome: 'lease_expired' }, expired.length);
    this.#logger.warn({ count: expired.length }, 'requeued messages whose worker stopped answering');
    for (const row of expired) {
      if (row.status === 'failed') {
        this.counters.failed += 1;
        this.#onSettled?.(row.id, 'failed');
      }
    }
  }

  /**
   * Pushes the provider accepted but whose device did not fetch its request within their
   * `fallbackAfterMs`: each is marked failed and its fallback enqueued, in one transaction and
   * fenced on the pending deadline, so with any number of workers each fallback goes once.
   */
  async #fireDueFallbacks(): Promise<void> {
    const now = this.#now();
    // A tenth of a second is precision enough for a fallback measured in seconds, and spares
    // the database a query on every pass of a busy loop.
    if (now - this.#lastFallbackCheck < FALLBACK_CHECK_MS) return;
    this.#lastFallbackCheck = now;
    const due = await this.#db
      .selectFrom('notify_outbox')
      .select('id')
      .where('fallback_due_at', '<=', now)
      .where(oneOf('status', ['sent']))
      .orderBy('fallback_due_at')
      .limit(FALLBACK_BATCH)
      .execute();
    if (due.length === 0) return;
    const fired = await this.#db.transaction().execute(async (tx) => {
      // The deadline is cleared as the row is taken (RETURNING still has its fallback): a
      // second worker, or markDelivered, racing for the same row finds nothing left to do.
      const rows = await tx
        .updateTable('notify_outbox')
        .set({ fallback_due_at: null, updated_at: now })
        .where('id', 'in', (eb) => inIdOrder(eb.selectFrom('notify_outbox').select('id').where('id', 'in', due.map((r) => r.id)), isPostgres(tx)))
        .where('status', '=', 'sent')
        .where('fallback_due_at', '<=', now)
        .where('fallback', 'is not', null)
        .returning(['id', 'kind', 'locale', 'params', 'fallback', 'correlation_id', 'fallback_after_ms'])
        .execute();
      for (const row of rows) {
        const channel = (JSON.parse(row.fallback!) as NotificationFallback).channel;
        await tx
          .updateTable('notify_outbox')
          .set({ status: 'failed', fallback: null, params: '{}', last_error: `not delivered within ${row.fallback_after_ms} ms of sending; fell back to ${channel}`, updated_at: now })
          .where('id', '=', row.id)
          .execute();
        await this.#enqueueFallback(tx, row, now);
      }
      return rows;
    });
    for (const row of fired) {
      this.counters.fellBack += 1;
      this.#metrics?.outcomes.inc({ channel: 'push', outcome: 'not_delivered' });
      this.#onSettled?.(row.id, 'failed');
    }
  }

  async #claim(limit: number): Promise<OutboxMessage[]> {
    const now = this.#now();
    return (await claimDue(this.#db, { now, limit, workerId: this.id, leaseUntil: now + this.#settings.leaseMs })).rows;
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

  /**
   * Runs a write again with growing pauses when it fails (a deadlock victim, a dropped
   * connection, a busy SQLite file); throws the last error when every try failed.
   */
  async #persist<T>(what: string, messageId: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        const delay = RECORD_RETRY_DELAYS_MS[attempt];
        if (delay === undefined) throw error;
        this.#logger.warn({ err: error, messageId, retryInMs: delay }, `${what} failed; trying again`);
        await new Promise((resolve) => setTimeout(resolve, delay + randomInt(0, Math.ceil(delay / 2) + 1)));
      }
    }
  }

  async #recordSent(message: OutboxMessage, result: DeliveryResult, started: number): Promise<void> {
    const record: SentRecord = { message, result, started, finished: this.#now() };
    let settled: SentOutcome;
    try {
      settled = await this.#sentLog.add(record);
    } catch (groupError) {
      // The group's transaction failed (one bad item fails them all): record this one alone.
      this.#logger.warn({ err: groupError, messageId: message.id }, 'recording a group of sends failed; recording each alone');
      try {
        settled = (await this.#persist('recording a send', message.id, () => this.#flushSent([record])))[0]!;
      } catch (error) {
        await this.#release(message, error, started);
        return;
      }
    }
    this.counters.sent += 1;
    this.#metrics?.outcomes.inc({ channel: message.channel, outcome: 'sent' });
    const status = settled?.status ?? (result.delivered ? 'delivered' : 'sent');
    if (status === 'delivered') this.counters.delivered += 1;
    this.#onSettled?.(message.id, result.delivered ? 'delivered' : 'sent');
    if (settled) this.#onSettled?.(message.id, settled.status);
  }

  /**
   * The provider took the message but its send could not be recorded, even alone and after
   * pauses: give the message back (or fail it at the bound) in a fresh transaction, so it is
   * retried like any failed attempt instead of staying `sending`. It may reach the phone
   * twice; that is the at-least-once price of an outcome that cannot be written.
   */
  async #release(message: OutboxMessage, cause: unknown, started: number): Promise<void> {
    const reason = `recording the send failed: ${(cause as Error)?.message ?? String(cause)}`;
    this.#logger.error({ err: cause, messageId: message.id }, 'recording a send failed for good; releasing the message for another attempt');
    await this.#recordFailure(message, new DeliveryError(reason.slice(0, 500)), started);
  }

  /**
   * Records a group of sends in one transaction: provider refs (one per SMS segment), the
   * status (`delivered` at once for the dev inbox, or for a push whose device already fetched
   * its request), the attempt, and for a push with `fallbackAfterMs` the time its fallback
   * becomes due.
   */
  async #flushSent(items: SentRecord[]): Promise<SentOutcome[]> {
    const now = this.#now();
    // Pushes and development texts await no receipt: on PostgreSQL their whole group is one
    // statement (no BEGIN, per-message UPDATEs, attempts INSERT and COMMIT round trips).
    if (this.#dialect === 'postgres' && items.every((i) => i.message.channel !== 'sms' || i.result.delivered)) return this.#flushSentTogether(items, now);
    return this.#db.transaction().execute(async (tx) => {
      // One row per ref, the first message in the group to name it keeping it: an SMSC that
      // answers two submits with one id must not fail the whole group's transaction.
      // Only SMSCs send delivery receipts; a push service's message id is kept on the message
      // (provider_message_id) and needs no ref row, nor a settle that would find no receipt.
      const awaitingReceipts = items.filter((i) => i.message.channel === 'sms' && !i.result.delivered);
      const owner = new Map<string, { message_id: string; attempt: number }>();
      for (const i of awaitingReceipts) for (const ref of i.result.refs) if (!owner.has(ref)) owner.set(ref, { message_id: i.message.id, attempt: i.message.attempts });
      // Refs before outbox rows, each in sorted order: the receipt path locks the same way,
      // so the two never deadlock, and whichever commits second sees the other's half.
      const refs = [...owner.keys()].sort();
      if (refs.length > 0) {
        await tx
          .insertInto('notify_provider_refs')
          .values(refs.map((ref) => ({ ref, ...owner.get(ref)!, receipt_status: null, created_at: now, receipt_at: null })))
          .onConflict((oc) =>
            oc
              .column('ref')
              .doUpdateSet((eb) => ({ message_id: eb.ref('excluded.message_id'), attempt: eb.ref('excluded.attempt') }))
              // Fill in a receipt that came first; never take a ref another message holds.
              .where((eb) => eb.or([eb('notify_provider_refs.message_id', 'is', null), eb('notify_provider_refs.message_id', '=', eb.ref('excluded.message_id'))])),
          )
          .execute();
      }
      const held = refs.length > 0 ? await tx.selectFrom('notify_provider_refs').select(['ref', 'message_id']).where('ref', 'in', refs).execute() : [];
      const heldBy = new Map(held.map((r) => [r.ref, r.message_id]));
      const unmatched = new Set(
        items
          .filter((i) => i.message.channel === 'sms' && !i.result.delivered && i.result.refs.length > 0 && i.result.refs.every((ref) => heldBy.get(ref) !== i.message.id))
          .map((i) => i.message.id),
      );
      for (const { message, result } of [...items].sort((a, b) => (a.message.id < b.message.id ? -1 : 1))) {
        const keep = this.#pendingFallback(message, result);
        const updated = await tx
          .updateTable('notify_outbox')
          .set((eb) => ({
            // A push whose device fetched its request while it was being sent is delivered.
            status: result.delivered ? 'delivered' : eb.case().when('delivered_at', 'is not', null).then('delivered' as NotificationStatus).else('sent' as NotificationStatus).end(),
            sent_at: now,
            delivered_at: result.delivered ? now : eb.ref('delivered_at'),
            provider_message_id: result.refs[0] ?? null,
            claimed_by: null,
            lease_until: null,
            last_error: unmatched.has(message.id) ? 'the provider gave its message id to another message too; no delivery receipt can be matched to this one' : null,
            // Nothing is rendered from these again: a code must not outlive its message. A
            // push that may still fall back keeps what the fallback needs until then.
            params: '{}',
            fallback: keep ? eb.case().when('delivered_at', 'is', null).then(keep.fallback).else(null).end() : null,
            fallback_due_at: keep ? eb.case().when('delivered_at', 'is', null).then(now + keep.afterMs).else(null).end() : null,
            updated_at: now,
          }))
          .where('id', '=', message.id)
          .where('claimed_by', '=', this.id)
          .where('status', '=', 'sending')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) {
          this.#logger.warn({ messageId: message.id }, 'lease lost before recording a send; another worker may send it again');
        }
        if (unmatched.has(message.id)) this.#logger.warn({ messageId: message.id }, 'provider message id already used by another message; its receipt cannot be matched');
      }
      await tx
        .insertInto('notify_attempts')
        .values(
          items.map((i) => ({
            id: randomUUID(),
            message_id: i.message.id,
            attempt: i.message.attempts,
            worker_id: this.id,
            route: i.result.route,
            outcome: 'sent' as const,
            error: null,
            started_at: i.started,
            finished_at: i.finished,
            segments: i.result.segments ?? null,
          })),
        )
        .execute();
      const settled = await this.#settle(
        tx,
        awaitingReceipts.map((i) => i.message.id),
        now,
      );
      return items.map((i) => settled.get(i.message.id));
    });
  }

  /**
   * #flushSent for a group that awaits no delivery receipt, on PostgreSQL, as ONE statement:
   * the messages are locked in id order (as markDelivered locks them, so the two cannot
   * deadlock), each is moved to `sent` (or `delivered`, when its device already fetched its
   * request) with the same rules as the per-message UPDATE, and every attempt is written.
   */
  async #flushSentTogether(items: SentRecord[], now: number): Promise<SentOutcome[]> {
    const keeps = items.map(({ message, result }) => this.#pendingFallback(message, result));
    const { rows } = await recordSendsOnPostgres(this.#db, {
      workerId: this.id,
      now,
      ids: items.map((i) => i.message.id),
      delivered: items.map((i) => i.result.delivered === true),
      providerIds: items.map((i) => i.result.refs[0] ?? null),
      fallbacks: keeps.map((keep) => keep?.fallback ?? null),
      fallbackAfterMs: keeps.map((keep) => keep?.afterMs ?? null),
      attemptIds: items.map(() => randomUUID()),
      attempts: items.map((i) => i.message.attempts),
      routes: items.map((i) => i.result.route),
      started: items.map((i) => i.started),
      finished: items.map((i) => i.finished),
      segments: items.map((i) => i.result.segments ?? null),
    });
    const recorded = new Set(rows.map((r) => r.id));
    for (const { message } of items) {
      if (!recorded.has(message.id)) this.#logger.warn({ messageId: message.id }, 'lease lost before recording a send; another worker may send it again');
    }
    return items.map(() => undefined);
  }

  /** A push with a delayed fallback keeps it (with the parameters it renders) once sent. */
  #pendingFallback(message: OutboxMessage, result: DeliveryResult): { fallback: string; afterMs: number } | undefined {
    if (result.delivered || !message.fallback || message.fallback_after_ms === null || message.channel !== 'push') return undefined;
    const fallback = JSON.parse(message.fallback) as NotificationFallback;
    return { fallback: JSON.stringify({ ...fallback, params: fallback.params ?? JSON.parse(message.params) }), afterMs: message.fallback_after_ms };
  }

  async #recordFailure(message: OutboxMessage, error: DeliveryError, started: number): Promise<void> {
    const final = error.permanent || message.attempts >= message.max_attempts;
    const outcome = await this.#persist('recording a failed attempt', message.id, () =>
      this.#db.transaction().execute(async (tx): Promise<'delivered' | 'failed' | 'queued'> => {
        const now = this.#now();
        if (error.refs.length > 0) {
          // Segments of a long SMS the SMSC took before a later one failed are on their way:
          // keep their refs so their receipts match (they count for this attempt only).
          await tx
            .insertInto('notify_provider_refs')
            .values([...new Set(error.refs)].sort().map((ref) => ({ ref, message_id: message.id, attempt: message.attempts, receipt_status: null, created_at: now, receipt_at: null })))
            .onConflict((oc) =>
              oc
                .column('ref')
                .doUpdateSet((eb) => ({ message_id: eb.ref('excluded.message_id'), attempt: eb.ref('excluded.attempt') }))
                .where('notify_provider_refs.message_id', 'is', null),
            )
            .execute();
        }
        let result: 'delivered' | 'failed' | 'queued';
        const delivered =
          message.channel === 'push'
            ? await tx
                .updateTable('notify_outbox')
                .set({ status: 'delivered', claimed_by: null, lease_until: null, params: '{}', fallback: null, fallback_due_at: null, last_error: error.message.slice(0, 500), updated_at: now })
                .where('id', '=', message.id)
                .where('claimed_by', '=', this.id)
                .where('status', '=', 'sending')
                .where('delivered_at', 'is not', null)
                .executeTakeFirst()
            : undefined;
        if (delivered && Number(delivered.numUpdatedRows) > 0) {
          // The device fetched its request meanwhile (the app was opened by hand): nothing to retry.
          result = 'delivered';
        } else if (final) {
          await this.#fail(tx, message, error.message, now);
          result = 'failed';
        } else {
          // Exponential backoff with equal jitter: spreads retries of a burst that failed together.
          const ceiling = Math.min(this.#settings.maxBackoffMs, this.#settings.baseBackoffMs * 2 ** (message.attempts - 1));
          const delay = Math.ceil(ceiling / 2) + randomInt(0, Math.ceil(ceiling / 2) + 1);
          await tx
            .updateTable('notify_outbox')
            .set({ status: 'queued', claimed_by: null, lease_until: null, next_attempt_at: now + delay, last_error: error.message.slice(0, 500), updated_at: now })
            .where('id', '=', message.id)
            .where('claimed_by', '=', this.id)
            .where('status', '=', 'sending')
            .execute();
          result = 'queued';
        }
        // Finished when the failure was seen: the retry's backoff counts from that moment.
        await this.#recordAttempt(tx, message.id, message.attempts, error.route ?? null, final ? 'failed' : 'retry', error.message, started, error.refs.length > 0 ? error.refs.length : null, now);
        return result;
      }),
    );
    if (outcome === 'failed') this.counters.failed += 1;
    else if (outcome === 'queued') this.counters.retried += 1;
    else this.counters.delivered += 1;
    this.#metrics?.outcomes.inc({ channel: message.channel, outcome: outcome === 'failed' ? 'failed' : outcome === 'queued' ? 'retry' : 'delivered' });
    this.#logger.warn({ messageId: message.id, kind: message.kind, attempt: message.attempts, final, reason: error.message }, 'delivery failed');
    this.#onSettled?.(message.id, outcome);
  }

  /** Marks a message failed for good and, in the same transaction, enqueues its fallback. */
  async #fail(tx: Tx, message: OutboxMessage, reason: string, now: number): Promise<void> {
    // Fenced: only the claim this worker holds, or a message requeued and not yet reclaimed,
    // so a worker whose lease lapsed cannot fail a message another worker is sending.
    const updated = await tx
      .updateTable('notify_outbox')
      .set({ status: 'failed', claimed_by: null, lease_until: null, last_error: reason.slice(0, 500), params: '{}', fallback: null, fallback_due_at: null, updated_at: now })
      .where('id', '=', message.id)
      .where((eb) => eb.or([eb.and([eb('status', '=', 'sending'), eb('claimed_by', '=', this.id)]), eb('status', '=', 'queued')]))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return;
    await this.#enqueueFallback(tx, message, now);
  }

  /** Enqueues a failed message's fallback (if it has one) under the same correlation id. */
  async #enqueueFallback(
    tx: Tx,
    message: Pick<OutboxMessage, 'id' | 'kind' | 'locale' | 'params' | 'fallback' | 'correlation_id'>,
    now: number,
  ): Promise<void> {
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

  async #recordAttempt(
    tx: Tx | Db,
    messageId: string,
    attempt: number,
    route: string | null,
    outcome: AttemptOutcome,
    error: string | null,
    started: number,
    segments: number | null = null,
    finished: number = this.#now(),
  ): Promise<void> {
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
        finished_at: finished,
        segments,
      })
      .execute();
  }

  /**
   * Records a delivery receipt (from an SMSC) and settles its message when all parts are in.
   * Resolves once it is committed: only then may the SMSC be told it arrived.
   */
  async handleReceipt(ref: string, stat: string): Promise<void> {
    if (stat !== RECEIPT_DELIVERED && !RECEIPT_FAILED.has(stat)) return; // ENROUTE, ACCEPTD: not final
    await this.#receiptLog.add({ ref, stat });
  }

  async #flushReceipts(items: Array<{ ref: string; stat: string }>): Promise<void[]> {
    const now = this.#now();
    const byRef = new Map(items.map((i) => [i.ref, i.stat]));
    const refs = [...byRef.keys()].sort();
    const settled = await this.#db.transaction().execute(async (tx) => {
      await tx
        .insertInto('notify_provider_refs')
        .values(refs.map((ref) => ({ ref, message_id: null, receipt_status: byRef.get(ref)!, created_at: now, receipt_at: now })))
        .onConflict((oc) =>
          oc.column('ref').doUpdateSet((eb) => ({ receipt_status: eb.ref('excluded.receipt_status'), receipt_at: eb.ref('excluded.receipt_at') })),
        )
        .execute();
      const rows = await tx.selectFrom('notify_provider_refs').select('message_id').where('ref', 'in', refs).where('message_id', 'is not', null).execute();
      return this.#settle(tx, [...new Set(rows.map((r) => r.message_id!))], now);
    });
    for (const [messageId, { status }] of settled) {
      if (status === 'delivered') this.counters.delivered += 1;
      this.#metrics?.outcomes.inc({ channel: 'sms', outcome: status === 'delivered' ? 'delivered' : 'receipt_failed' });
      this.#onSettled?.(messageId, status);
    }
    return items.map(() => undefined);
  }

  /**
   * Turns `sent` messages whose every segment has a final receipt into `delivered` (all
   * DELIVRD) or `failed`. Locks the outbox rows in id order so concurrent settles serialize.
   */
  async #settle(tx: Tx, messageIds: string[], now: number): Promise<Map<string, SettleStatus>> {
    const result = new Map<string, SettleStatus>();
    if (messageIds.length === 0) return result;
    let lock = tx.selectFrom('notify_outbox').select(['id', 'status', 'attempts']).where('id', 'in', [...messageIds].sort()).orderBy('id');
    if (this.#dialect === 'postgres') lock = lock.forUpdate();
    const sentRows = (await lock.execute()).filter((m) => m.status === 'sent');
    if (sentRows.length === 0) return result;
    const attemptOf = new Map(sentRows.map((m) => [m.id, m.attempts]));
    const refs = await tx
      .selectFrom('notify_provider_refs')
      .select(['message_id', 'receipt_status', 'attempt'])
      .where('message_id', 'in', [...attemptOf.keys()])
      .execute();
    const byMessage = new Map<string, Array<string | null>>();
    for (const r of refs) {
      // Segments an earlier, failed attempt left behind neither hold up nor fail the sent one.
      if (r.attempt !== null && r.attempt !== attemptOf.get(r.message_id!)) continue;
      byMessage.set(r.message_id!, [...(byMessage.get(r.message_id!) ?? []), r.receipt_status]);
    }
    const delivered: string[] = [];
    for (const [id, statuses] of byMessage) {
      if (statuses.some((s) => s === null)) continue;
      const bad = statuses.find((s) => s !== RECEIPT_DELIVERED);
      if (bad) {
        await tx
          .updateTable('notify_outbox')
          .set({ status: 'failed', last_error: `receipt: ${bad}`, updated_at: now })
          .where('id', '=', id)
          .where('status', '=', 'sent')
          .execute();
        result.set(id, { status: 'failed' });
      } else {
        delivered.push(id);
        result.set(id, { status: 'delivered' });
      }
    }
    if (delivered.length > 0) {
      await tx
        .updateTable('notify_outbox')
        .set({ status: 'delivered', delivered_at: now, updated_at: now })
        .where('id', 'in', delivered)
        .where('status', '=', 'sent')
        .execute();
    }
    return result;
  }
}

/**
 * A worker's lease renewal for the messages it holds, the rows locked in id order like every
 * other multi-row lock on the outbox (inIdOrder): unordered, it deadlocked under load with the
 * worker's own record of a batch of sends and a device's fetch marking its push delivered.
 */
export function renewLeasesStatement(db: Db | Tx, ids: readonly string[], workerId: string, leaseUntil: number) {
  return db
    .updateTable('notify_outbox')
    .set({ lease_until: leaseUntil })
    .where('id', 'in', (eb) => inIdOrder(eb.selectFrom('notify_outbox').select('id').where('id', 'in', ids).where('claimed_by', '=', workerId).where('status', '=', 'sending'), isPostgres(db)))
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'sending');
}

/**
 * Claims a batch of due messages for a worker (compiled once: every pass runs it). On
 * PostgreSQL a materialized CTE locks exactly one batch: as an IN (subquery) the planner may
 * rerun the LIMIT ... SKIP LOCKED select and claim far more rows than the batch.
 */
const claimDue = prepared((db: Db, args: { now: number; limit: number; workerId: string; leaseUntil: number }) => {
  const claim = { status: 'sending' as const, claimed_by: args.workerId, lease_until: args.leaseUntil, attempts: sql<number>`attempts + 1`, updated_at: args.now };
  const due = db.selectFrom('notify_outbox').select('id').where(oneOf('status', ['queued'])).where('next_attempt_at', '<=', args.now).orderBy('next_attempt_at').limit(args.limit);
  if (isPostgres(db)) {
    return db
      .with((cte) => cte('due').materialized(), () => due.forUpdate().skipLocked())
      .updateTable('notify_outbox')
      .from('due')
      .set(claim)
      .whereRef('notify_outbox.id', '=', 'due.id')
      .returningAll('notify_outbox');
  }
  return db.updateTable('notify_outbox').set(claim).where('id', 'in', due).where('status', '=', 'queued').returningAll();
});

/** #flushSentTogether's columns, one array per column and one element per send. */
type SendsRecord = {
  readonly workerId: string;
  readonly now: number;
  readonly ids: readonly string[];
  readonly delivered: readonly boolean[];
  readonly providerIds: readonly (string | null)[];
  readonly fallbacks: readonly (string | null)[];
  readonly fallbackAfterMs: readonly (number | null)[];
  readonly attemptIds: readonly string[];
  readonly attempts: readonly number[];
  readonly routes: readonly string[];
  readonly started: readonly number[];
  readonly finished: readonly number[];
  readonly segments: readonly (number | null)[];
};

/**
 * The statement of #flushSentTogether. Each column travels as one array, so its text is the
 * same for a group of any size and PostgreSQL keeps it prepared. Rows are locked in id order
 * by the `locked` CTE (as markDelivered locks them, so the two cannot deadlock), whatever the
 * order of the sends.
 */
const recordSendsOnPostgres = prepared((db: Db, a: SendsRecord) => {
  const query = sql<{ id: string }>`
    with sends as (
      select * from unnest(${a.ids}::text[], ${a.delivered}::boolean[], ${a.providerIds}::text[], ${a.fallbacks}::text[], ${a.fallbackAfterMs}::bigint[])
        as s(id, delivered, provider_message_id, fallback, fallback_after_ms)
    ),
    locked as (
      select o.id from notify_outbox o join sends on sends.id = o.id
      where o.claimed_by = ${a.workerId} and o.status = 'sending' order by o.id for update of o
    ),
    recorded as (
      update notify_outbox o set
        status = case when sends.delivered or o.delivered_at is not null then 'delivered' else 'sent' end,
        sent_at = ${a.now}::bigint,
        delivered_at = case when sends.delivered then ${a.now}::bigint else o.delivered_at end,
        provider_message_id = sends.provider_message_id,
        claimed_by = null,
        lease_until = null,
        last_error = null,
        params = '{}',
        fallback = case when sends.fallback is not null and o.delivered_at is null then sends.fallback end,
        fallback_due_at = case when sends.fallback is not null and o.delivered_at is null then ${a.now}::bigint + sends.fallback_after_ms end,
        updated_at = ${a.now}::bigint
      from sends, locked
      where o.id = sends.id and locked.id = o.id
      returning o.id
    ),
    attempted as (
      insert into notify_attempts (id, message_id, attempt, worker_id, route, outcome, error, started_at, finished_at, segments)
      select t.id, t.message_id, t.attempt, ${a.workerId}, t.route, 'sent', null, t.started_at, t.finished_at, t.segments
      from unnest(${a.attemptIds}::text[], ${a.ids}::text[], ${a.attempts}::integer[], ${a.routes}::text[], ${a.started}::bigint[], ${a.finished}::bigint[], ${a.segments}::integer[])
        as t(id, message_id, attempt, route, started_at, finished_at, segments)
    )
    select id from recorded`;
  return { compile: () => query.compile(db) };
});

interface SentRecord {
  readonly message: OutboxMessage;
  readonly result: DeliveryResult;
  readonly started: number;
  readonly finished: number;
}

interface SettleStatus {
  readonly status: 'delivered' | 'failed';
}

type SentOutcome = SettleStatus | undefined;

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
