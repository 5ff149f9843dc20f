import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { createTestApp } from '../support/app.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { enqueueNotification, getNotificationStatus, getNotificationsByCorrelation } from '../../src/notify/outbox.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import type { NotifyConfig } from '../../src/notify/config.ts';
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
      const metrics = await app.http.inject({ url: '/metrics' });
      expect(metrics.body).toContain('tasdiq_notify_outcomes_total{channel="sms",outcome="sent"} 1');
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
