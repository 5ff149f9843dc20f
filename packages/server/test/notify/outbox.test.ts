import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, waitForLockWait, type TestDatabase } from '../support/databases.ts';
import { createTestApp } from '../support/app.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { enqueueNotification, getNotificationStatus, getNotificationsByCorrelation, notificationRow } from '../../src/notify/outbox.ts';
import { claimOnWrite, offerLocalClaimant, withdrawLocalClaimant } from '../../src/notify/local-delivery.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import { renewLeasesStatement } from '../../src/notify/worker.ts';
import type { NotifyConfig } from '../../src/notify/config.ts';
import { registerPushTarget } from '../../src/notify/push-targets.ts';
import { TestSmsGateway } from './gateway.ts';
import { FAST_WORKER, notifyConfig, waitFor } from './helpers.ts';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

describe.each(testDialects())('notification outbox on %s', (dialect) => {
  let database: TestDatabase;
  let gateway: TestSmsGateway;
  const runtimes: NotifyRuntime[] = [];

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
    gateway = await TestSmsGateway.start();
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.stop()));
    await gateway.close();
    await database.dispose();
  });

  function start(config: Partial<NotifyConfig>, workerId?: string): NotifyRuntime {
    const runtime = createNotifyRuntime({ db: database.db, dialect, logger, config: notifyConfig(config), ...(workerId ? { workerId } : {}) });
    runtimes.push(runtime);
    runtime.start();
    return runtime;
  }

  const http = (overrides: Partial<NotifyConfig> = {}): Partial<NotifyConfig> => ({
    sms: 'http',
    httpSms: { url: gateway.url, token: 'gw-token', timeoutMs: 2_000 },
    ...overrides,
  });

  it('writes nothing when the transaction that enqueued rolls back', async () => {
    await expect(
      database.db.transaction().execute(async (tx) => {
        await enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await database.db.selectFrom('notify_outbox').select('id').execute()).toEqual([]);
  });

  it('refuses unknown kinds, missing parameters and a bad origin when enqueuing', async () => {
    const enqueue = (input: Parameters<typeof enqueueNotification>[1]) => enqueueNotification(database.db, input);
    await expect(enqueue({ kind: 'nope', channel: 'sms', recipient: '+998901234567', locale: 'en' })).rejects.toThrow('unknown notification kind');
    await expect(enqueue({ kind: 'auth.sms_otp', channel: 'sms', recipient: '+998901234567', locale: 'en', params: { code: '1' } })).rejects.toThrow('missing parameter');
    await expect(enqueue({ kind: 'auth.sms_otp', channel: 'sms', recipient: '+998901234567', locale: 'en', params: { code: '', service: 's' } })).rejects.toThrow('printable');
    await expect(
      enqueue({ kind: 'auth.sms_otp', channel: 'sms', recipient: '+998901234567', locale: 'en', params: { code: '1', service: 's', origin: 'javascript:alert(1)' } }),
    ).rejects.toThrow('origin');
    await expect(enqueue({ kind: 'device.activated', channel: 'sms', recipient: '90 123 45 67', locale: 'en' })).rejects.toThrow('E.164');
    await expect(
      enqueue({ kind: 'device.activated', channel: 'push', recipient: 'dev_1', locale: 'en', fallback: { channel: 'sms', recipient: 'nope' } }),
    ).rejects.toThrow('E.164');
    expect(await database.db.selectFrom('notify_outbox').select('id').execute()).toEqual([]);
  });

  it('sends through the HTTP gateway, clears the parameters and records the attempt', async () => {
    start(http());
    const { id } = await enqueueNotification(database.db, {
      kind: 'enrollment.binding_code',
      channel: 'sms',
      recipient: '+998901234567',
      locale: 'en',
      params: { code: '5821-3307', operatorOffice: 'Boysun PSC' },
    });
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(gateway.requests).toEqual([
      {
        to: '+998901234567',
        text: 'Tasdiq: your phone binding code is 5821-3307. Tell it only to the operator at Boysun PSC. Never share it by phone.',
        reference: id,
        authorization: 'Bearer gw-token',
        // The message id again, so an aggregator that honours it drops a retry's duplicate.
        idempotencyKey: id,
      },
    ]);
    const row = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ params: '{}', provider_message_id: 'http:gw-1', claimed_by: null, attempts: 1 });
  });

  it('retries a failing gateway with growing backoff and stops at the bound as failed', async () => {
    gateway.status = 503;
    start(http());
    const { id } = await enqueueNotification(database.db, {
      kind: 'auth.open_app',
      channel: 'sms',
      recipient: '+998901234567',
      locale: 'ru',
      params: { service: 'my.gov.uz' },
      maxAttempts: 4,
    });
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'failed', 10_000, 'failed');
    expect(gateway.requests).toHaveLength(4);
    const attempts = await database.db.selectFrom('notify_attempts').selectAll().where('message_id', '=', id).orderBy('attempt').execute();
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'retry'], [2, 'retry'], [3, 'retry'], [4, 'failed']]);
    expect(attempts.every((a) => a.error === 'SMS gateway answered 503')).toBe(true);
    const row = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ params: '{}', attempts: 4, last_error: 'SMS gateway answered 503' });
    // Backoff: each wait is at least half its exponentially growing ceiling (20, 40, 80 ms).
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i]!.started_at - attempts[i - 1]!.finished_at).toBeGreaterThanOrEqual(Math.min(FAST_WORKER.maxBackoffMs, 20 * 2 ** (i - 1)) / 2);
    }
  });

  it('fails at once, without retrying, what the gateway rejects as bad', async () => {
    gateway.status = 400;
    start(http());
    const { id } = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'failed', 5_000, 'failed');
    expect(gateway.requests).toHaveLength(1);
  });

  it('falls back to SMS on its own when a push reaches no device', async () => {
    start({ sms: 'dev' });
    const { id } = await database.db.transaction().execute((tx) =>
      enqueueNotification(tx, {
        kind: 'auth.open_app',
        channel: 'push',
        recipient: 'dev_without_push_target',
        locale: 'uz-Latn',
        params: { service: 'my.gov.uz' },
        correlationId: 'auth_session_1',
        fallback: { channel: 'sms', recipient: '+998901234567' },
      }),
    );
    const messages = await waitFor(async () => {
      const list = await getNotificationsByCorrelation(database.db, 'auth_session_1');
      return list.length === 2 && list[1]!.status === 'delivered' ? list : undefined;
    }, 5_000, 'fallback delivered');
    expect(messages.map((m) => [m.channel, m.status])).toEqual([['push', 'failed'], ['sms', 'delivered']]);
    expect(messages[0]!.id).toBe(id);
    const inbox = await database.db.selectFrom('notify_dev_inbox').selectAll().execute();
    expect(inbox.map((m) => [m.recipient, m.text])).toEqual([
      ['+998901234567', "Tasdiq: my.gov.uz kirishni tasdiqlashni so'ramoqda. Tasdiq ilovasini oching."],
    ]);
  });

  it('never lets two workers deliver the same message', async () => {
    const a = start(http(), 'worker-a');
    const b = start(http(), 'worker-b');
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      ids.push((await enqueueNotification(database.db, { kind: 'auth.open_app', channel: 'sms', recipient: '+998901234567', locale: 'en', params: { service: `svc${i}` } })).id);
    }
    await waitFor(async () => {
      const rows = await database.db.selectFrom('notify_outbox').select('status').where('status', '!=', 'sent').execute();
      return rows.length === 0;
    }, 20_000, 'all sent');
    const references = gateway.requests.map((r) => r.reference);
    expect(references).toHaveLength(120);
    expect(new Set(references)).toEqual(new Set(ids));
    expect(a.worker.counters.claimed + b.worker.counters.claimed).toBe(120);
    // SQLite: one process holds the lease; PostgreSQL: both claim with SKIP LOCKED.
    if (dialect === 'sqlite') expect(Math.min(a.worker.counters.claimed, b.worker.counters.claimed)).toBe(0);
  });

  it('purges finished messages past retention with their attempts, and keeps the rest', async () => {
    const runtime = start(http());
    const day = 86_400_000;
    const now = Date.now();
    const old = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' }, now - 40 * day);
    const pendingOld = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' }, now - 40 * day);
    await waitFor(async () => (await getNotificationStatus(database.db, pendingOld.id)) === 'sent', 5_000, 'sent');
    await runtime.stop();
    runtimes.length = 0;
    await database.db.updateTable('notify_outbox').set({ updated_at: now - 40 * day }).where('id', '=', old.id).execute();
    await database.db.updateTable('notify_outbox').set({ status: 'queued', updated_at: now - 40 * day }).where('id', '=', pendingOld.id).execute();
    await database.db
      .insertInto('notify_dev_inbox')
      .values({ id: 'd1', message_id: 'd1', recipient: '+998901234567', kind: 'device.activated', text: 'x', segments: 1, created_at: now - 2 * day })
      .execute();
    expect(await runtime.worker.purge(now)).toBe(1);
    const left = await database.db.selectFrom('notify_outbox').select('id').execute();
    expect(left.map((r) => r.id)).toEqual([pendingOld.id]);
    expect(await database.db.selectFrom('notify_attempts').select('id').where('message_id', '=', old.id).execute()).toEqual([]);
    expect(await database.db.selectFrom('notify_dev_inbox').select('id').execute()).toEqual([]);
  });

  it('takes back the messages of a worker that died holding them, and counts the lost attempt', async () => {
    const now = Date.now();
    const { id } = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
    await database.db
      .updateTable('notify_outbox')
      .set({ status: 'sending', claimed_by: 'dead-worker', lease_until: now - 1, attempts: 1 })
      .where('id', '=', id)
      .execute();
    start(http());
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    const attempts = await database.db.selectFrom('notify_attempts').select(['attempt', 'outcome']).where('message_id', '=', id).orderBy('attempt').execute();
    expect(attempts).toEqual([{ attempt: 1, outcome: 'lease_expired' }, { attempt: 2, outcome: 'sent' }]);
  });

  const attemptsOf = async (id: string) =>
    (await database.db.selectFrom('notify_attempts').select(['attempt', 'outcome', 'error']).where('message_id', '=', id).orderBy('attempt').orderBy('started_at').execute()).map((a) => [a.attempt, a.outcome]);

  const activated = () => notificationRow({ kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' }, Date.now());
  /** A writer's statement: the message row, written as claimOnWrite says, then the hand-over. */
  const write = async (message = activated()) => {
    const written = claimOnWrite(database.db, message, Date.now());
    await database.db.insertInto('notify_outbox').values(written.row).execute();
    return written;
  };
  const ready = (runtime: NotifyRuntime) => waitFor(() => runtime.worker.leaseFor(Date.now()) !== undefined, 5_000, 'the worker to take messages');

  it('delivers a message its writer handed over, without a claim, once', async () => {
    const runtime = start(http());
    // On SQLite a worker takes messages only while it holds the outbox lease (its first pass).
    await ready(runtime);
    const written = await write();
    expect(written.row).toMatchObject({ status: 'sending', claimed_by: runtime.worker.id, attempts: 1 });
    written.committed();
    await waitFor(async () => (await getNotificationStatus(database.db, written.row.id)) === 'sent', 5_000, 'sent');
    expect(runtime.worker.counters).toMatchObject({ claimed: 1, handedOver: 1, sent: 1 });
    expect(gateway.requests).toHaveLength(1);
    expect(await attemptsOf(written.row.id)).toEqual([[1, 'sent']]);
  });

  it('writes a message queued when no worker here can take it; a worker that stopped first gives back what it was handed', async () => {
    const unattended = await write();
    expect(unattended.row).toMatchObject({ status: 'queued', claimed_by: null, attempts: 0 });
    unattended.committed();
    const runtime = start(http());
    await waitFor(async () => (await getNotificationStatus(database.db, unattended.row.id)) === 'sent', 5_000, 'sent');
    expect(runtime.worker.counters.handedOver).toBe(0);
    await ready(runtime);
    // Offered while the worker ran, committed after it stopped: back to the queue, no attempt used.
    const late = await write();
    expect(late.row.status).toBe('sending');
    await runtime.stop();
    late.committed();
    await waitFor(async () => {
      const row = await database.db.selectFrom('notify_outbox').select(['status', 'claimed_by', 'attempts']).where('id', '=', late.row.id).executeTakeFirstOrThrow();
      return row.status === 'queued' && row.claimed_by === null && row.attempts === 0;
    }, 5_000, 'the message back in the queue');
    expect(runtime.worker.counters.handedOver).toBe(0);
  });

  it('requeues a handed-over message whose worker died before sending it once its lease lapses, counting the lost attempt', async () => {
    // A worker that is handed the message and dies at once: it never delivers, never renews.
    const dying = { id: 'dying-worker', leaseFor: (now: number) => now + 100, take: () => undefined };
    offerLocalClaimant(database.db, dying);
    const written = await write();
    withdrawLocalClaimant(database.db, dying);
    expect(written.row).toMatchObject({ status: 'sending', claimed_by: 'dying-worker' });
    written.committed();
    start(http());
    await waitFor(async () => (await getNotificationStatus(database.db, written.row.id)) === 'sent', 5_000, 'sent');
    expect(await attemptsOf(written.row.id)).toEqual([[1, 'lease_expired'], [2, 'sent']]);
    expect(gateway.requests).toHaveLength(1);
  });

  /**
   * A real database error on recording a send: a trigger refuses `sent` attempts while the
   * `notify_test_fault` table has a row (SQLite RAISE, PostgreSQL RAISE EXCEPTION).
   */
  async function injectRecordFault(): Promise<{ clear(): Promise<void> }> {
    await sql`create table notify_test_fault (n integer)`.execute(database.db);
    await sql`insert into notify_test_fault (n) values (1)`.execute(database.db);
    if (dialect === 'sqlite') {
      await sql`create trigger notify_test_fault_trigger before insert on notify_attempts
        when new.outcome = 'sent' and (select count(*) from notify_test_fault) > 0
        begin select raise(abort, 'injected fault'); end`.execute(database.db);
    } else {
      await sql`create function notify_test_fault_fn() returns trigger language plpgsql as $$
        begin
          if new.outcome = 'sent' and exists (select 1 from notify_test_fault) then raise exception 'injected fault'; end if;
          return new;
        end $$`.execute(database.db);
      await sql`create trigger notify_test_fault_trigger before insert on notify_attempts for each row execute function notify_test_fault_fn()`.execute(database.db);
    }
    return { clear: async () => void (await sql`delete from notify_test_fault`.execute(database.db)) };
  }

  it('releases a message whose send cannot be recorded, instead of leaving it sending, and delivers it once the database recovers', async () => {
    const fault = await injectRecordFault();
    start(http());
    const { id } = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
    // Recorded with its group, then alone three times with pauses, then released for a retry.
    await waitFor(async () => (await attemptsOf(id)).length > 0, 10_000, 'the release recorded');
    expect(await attemptsOf(id)).toEqual([[1, 'retry']]);
    const [released] = await database.db.selectFrom('notify_attempts').select('error').where('message_id', '=', id).execute();
    expect(released!.error).toMatch(/^recording the send failed: .*injected fault/);
    await fault.clear();
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 10_000, 'sent');
    const attempts = await attemptsOf(id);
    expect(attempts.at(-1)).toEqual([attempts.length, 'sent']);
    expect(attempts.slice(0, -1).every(([, outcome]) => outcome === 'retry')).toBe(true);
    // At least once: every try reached the gateway under the same idempotency key.
    expect(gateway.requests.length).toBe(attempts.length);
    expect(new Set(gateway.requests.map((r) => r.idempotencyKey))).toEqual(new Set([id]));
    const row = await database.db.selectFrom('notify_outbox').select(['claimed_by', 'lease_until']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ claimed_by: null, lease_until: null });
  });

  it('fails a message whose send can never be recorded at its attempt bound, with its fallback', async () => {
    await injectRecordFault();
    start(http());
    const { id } = await enqueueNotification(database.db, {
      kind: 'auth.open_app',
      channel: 'sms',
      recipient: '+998901234567',
      locale: 'en',
      params: { service: 'my.gov.uz' },
      maxAttempts: 2,
      correlationId: 'auth_sess_unrecordable',
      fallback: { channel: 'dev', recipient: '+998901234599' },
    });
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'failed', 15_000, 'failed');
    expect(await attemptsOf(id)).toEqual([[1, 'retry'], [2, 'failed']]);
    const list = await waitFor(async () => {
      const l = await getNotificationsByCorrelation(database.db, 'auth_sess_unrecordable');
      return l.length === 2 ? l : undefined;
    }, 5_000, 'fallback enqueued');
    expect(list.map((m) => m.channel)).toEqual(['sms', 'dev']);
  });

  // Row locks and plans are PostgreSQL's (SQLite has one writer at a time).
  if (dialect === 'postgres') it('renews leases locking the rows in id order, whatever order the plan visits them in (no deadlock with a record of sends)', async () => {
    const now = Date.now();
    // Stored larger id first: a sequential scan (forced below) visits the rows against id order.
    const [larger, smaller] = ['msg_b_lease', 'msg_a_lease'];
    for (const id of [larger, smaller]) {
      await database.db.insertInto('notify_outbox').values({ ...activated(), id, status: 'sending', claimed_by: 'worker-a', lease_until: now + 1_000, attempts: 1 }).execute();
    }
    const until = now + 60_000;
    let renewal: Promise<void> | undefined;
    // A record of sends holds the smaller id (it locks in id order: recordSendsOnPostgres)...
    await database.db.transaction().execute(async (recording) => {
      await sql`select id from notify_outbox where id = ${smaller} for update`.execute(recording);
      // ...while the worker renews both, planned as a sequential scan.
      renewal = database.db.transaction().execute(async (tx) => {
        await sql`set local enable_indexscan = off`.execute(tx);
        await sql`set local enable_bitmapscan = off`.execute(tx);
        await renewLeasesStatement(tx, [smaller, larger], 'worker-a', until).execute();
      });
      await waitForLockWait(database, 'update "notify_outbox" set "lease_until"%');
      // The renewal waits holding nothing: the larger id is free for the record to take next.
      // Locked in scan order it would hold the larger id, and the two would deadlock here.
      await database.db.transaction().execute(async (next) => {
        await sql`select id from notify_outbox where id = ${larger} for update nowait`.execute(next);
      });
    });
    // Once the record commits, the renewal goes through.
    await renewal;
    const leases = await database.db.selectFrom('notify_outbox').select(['id', 'lease_until']).where('id', 'in', [smaller, larger]).orderBy('id').execute();
    expect(leases).toEqual([{ id: smaller, lease_until: until }, { id: larger, lease_until: until }]);
  });

  it('renews only the leases of messages in flight: a message it claimed but no longer holds lapses and is sent again', async () => {
    gateway.delayMs = 2_000;
    start(http({ worker: { ...FAST_WORKER, leaseMs: 600 }, httpSms: { url: gateway.url, token: 'gw-token', timeoutMs: 10_000 } }), 'worker-a');
    const slow = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
    await waitFor(() => gateway.received >= 1, 5_000, 'slow message at the gateway');
    // A message this worker once claimed and lost track of (its outcome was never written).
    const orphan = await enqueueNotification(database.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234568', locale: 'en' }, Date.now() + 60_000);
    await database.db.updateTable('notify_outbox').set({ status: 'sending', claimed_by: 'worker-a', lease_until: Date.now() + 300, attempts: 1 }).where('id', '=', orphan.id).execute();
    gateway.delayMs = 0;
    await waitFor(async () => (await getNotificationStatus(database.db, orphan.id)) === 'sent', 10_000, 'orphan requeued and sent');
    expect(await attemptsOf(orphan.id)).toEqual([[1, 'lease_expired'], [2, 'sent']]);
    // ...while the slow one, still in flight, kept its lease.
    expect(await getNotificationStatus(database.db, slow.id)).toBe('sending');
    await waitFor(async () => (await getNotificationStatus(database.db, slow.id)) === 'sent', 10_000, 'slow one sent');
    expect(await attemptsOf(slow.id)).toEqual([[1, 'sent']]);
  });

  it('fails an expired message that was on its last attempt in the same statement that takes it back, and enqueues its fallback', async () => {
    const now = Date.now();
    const { id } = await enqueueNotification(database.db, {
      kind: 'auth.open_app',
      channel: 'push',
      recipient: 'dev_gone_worker',
      locale: 'en',
      params: { service: 'my.gov.uz' },
      correlationId: 'auth_sess_exhausted',
      maxAttempts: 2,
      fallback: { channel: 'sms', recipient: '+998901234567' },
    });
    await database.db.updateTable('notify_outbox').set({ status: 'sending', claimed_by: 'dead-worker', lease_until: now - 1, attempts: 2 }).where('id', '=', id).execute();
    start(http());
    const list = await waitFor(async () => {
      const l = await getNotificationsByCorrelation(database.db, 'auth_sess_exhausted');
      return l.length === 2 && l[1]!.status === 'sent' ? l : undefined;
    }, 5_000, 'fallback sent');
    expect(list.map((m) => [m.channel, m.status])).toEqual([['push', 'failed'], ['sms', 'sent']]);
    expect(await attemptsOf(id)).toEqual([[2, 'lease_expired']]);
    const row = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', params: '{}', fallback: null, claimed_by: null, last_error: 'attempts exhausted (last attempt lost with its worker)' });
    expect(gateway.requests.map((r) => r.text)).toEqual(['Tasdiq: my.gov.uz asks you to confirm a sign-in. Open the Tasdiq app.']);
  });

  it('purges the push targets of revoked devices', async () => {
    const runtime = start(http());
    const now = Date.now();
    const device = (id: string, status: 'active' | 'revoked') => ({
      id,
      citizen_id: `cit_${id}`,
      binding_id: `bnd_${id}`,
      status,
      counter: 0,
      auth_public_key: 'k',
      sign_public_key: 'k',
      auth_cert_serial: `a_${id}`,
      sign_cert_serial: `s_${id}`,
      cert_not_after: now + 86_400_000,
      assurance: 'in_person',
      label: null,
      created_at: now,
      last_seen_at: null,
      revoked_at: status === 'revoked' ? now : null,
      revocation_reason: status === 'revoked' ? 'device_revoked' : null,
    });
    await database.db.insertInto('devices').values([device('dev_live', 'active'), device('dev_dead', 'revoked')]).execute();
    const token = () => `fcm-${randomBytes(24).toString('base64url')}`;
    await registerPushTarget(database.db, 'dev_live', { kind: 'fcm', token: token() });
    await registerPushTarget(database.db, 'dev_dead', { kind: 'fcm', token: token() });
    await runtime.worker.purge(now);
    const left = await database.db.selectFrom('notify_push_targets').select('device_id').execute();
    expect(left.map((r) => r.device_id)).toEqual(['dev_live']);
  });
});

describe.each(testDialects())('development SMS inbox API on %s', (dialect) => {
  it('shows development SMS by recipient and answers 404 outside development', async () => {
    const app = await createTestApp(dialect);
    try {
      await enqueueNotification(app.context.db, {
        kind: 'auth.sms_otp',
        channel: 'sms',
        recipient: '+998935550011',
        locale: 'en',
        params: { code: '771204', service: 'my.gov.uz', origin: 'my.gov.uz' },
      });
      const body = await waitFor(async () => {
        const res = await app.http.inject({ url: '/api/v1/dev/messages?recipient=%2B998935550011' });
        const json = res.json<{ items: Array<{ text: string; segments: number; kind: string }> }>();
        return res.statusCode === 200 && json.items.length === 1 ? json : undefined;
      }, 10_000, 'dev inbox message');
      expect(body).toMatchObject({ developmentOnly: true, items: [{ kind: 'auth.sms_otp', segments: 1, text: 'Your code for my.gov.uz is 771204. Do not share it.\n\n@my.gov.uz #771204' }] });
      // The text reaches the inbox as it is sent; the outcome is counted once the send is
      // recorded, a group commit later.
      const sentCounted = 'tasdiq_notify_outcomes_total{channel="sms",outcome="sent"} 1';
      await waitFor(async () => (await app.http.inject({ url: '/metrics' })).body.includes(sentCounted) || undefined, 10_000, 'the sent outcome counted');
      const bad = await app.http.inject({ url: '/api/v1/dev/messages?recipient=%3Cscript%3E' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'recipient_invalid' });
      const spaced = await app.http.inject({ url: '/api/v1/dev/messages?recipient=%2B998%2093%20555%2000%2011' });
      expect(spaced.json<{ items: unknown[] }>().items).toHaveLength(1);
      expect((await app.http.inject({ url: '/api/v1/dev/messages?recipient=998935550011' })).statusCode).toBe(400);
      const missing = await app.http.inject({ url: '/api/v1/dev/messages' });
      expect(missing.json()).toMatchObject({ code: 'validation_failed' });
    } finally {
      await app.close();
    }
    const production = await createTestApp(dialect, { config: { development: false }, demo: false });
    try {
      const res = await production.http.inject({ url: '/api/v1/dev/messages?recipient=%2B998935550011' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
    } finally {
      await production.close();
    }
  });
});
