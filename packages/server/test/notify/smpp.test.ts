import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { enqueueNotification, getNotificationStatus } from '../../src/notify/outbox.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import type { SmppRouteConfig } from '../../src/notify/channels/smpp-connection.ts';
import { renderText } from '../../src/notify/templates.ts';
import { TestSmsc } from './smsc.ts';
import { FAST_WORKER, notifyConfig, smppRoute, waitFor } from './helpers.ts';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

describe.each(testDialects())('SMS over SMPP to a loopback SMSC on %s', (dialect) => {
  let database: TestDatabase;
  const smscs: TestSmsc[] = [];
  let runtime: NotifyRuntime | undefined;

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await Promise.all(smscs.splice(0).map((s) => s.close()));
    await database.dispose();
  });

  async function smsc(options: ConstructorParameters<typeof Object>[0] = {}): Promise<TestSmsc> {
    const s = await TestSmsc.start(options as never);
    smscs.push(s);
    return s;
  }

  function start(routes: SmppRouteConfig[], worker: Partial<typeof FAST_WORKER> = {}): NotifyRuntime {
    runtime = createNotifyRuntime({ db: database.db, dialect, logger, config: notifyConfig({ sms: 'smpp', smppRoutes: routes, worker: { ...FAST_WORKER, ...worker } }) });
    runtime.start();
    return runtime;
  }

  async function otp(to: string, code: string, locale: 'en' | 'ru' = 'en'): Promise<string> {
    const { id } = await database.db
      .transaction()
      .execute((tx) => enqueueNotification(tx, { kind: 'auth.sms_otp', channel: 'sms', recipient: to, locale, params: { code, service: 'my.gov.uz', origin: 'my.gov.uz' } }));
    return id;
  }

  it('delivers a message and turns its delivery receipt into status delivered', async () => {
    const s = await smsc({ receipt: 'DELIVRD' });
    start([smppRoute('ucell', s.port, ['+99893', '+99894'])]);
    const id = await otp('+998931234567', '482913');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    expect(s.messagesTo('998931234567')).toEqual(['Your code for my.gov.uz is 482913. Do not share it.\n\n@my.gov.uz #482913']);
    const row = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.params).toBe('{}');
    expect(row.provider_message_id).toBe(`ucell:${s.submits[0]!.messageId}`);
    expect(row.delivered_at).toBeGreaterThanOrEqual(row.sent_at!);
    const attempts = await database.db.selectFrom('notify_attempts').selectAll().where('message_id', '=', id).execute();
    expect(attempts.map((a) => [a.attempt, a.outcome, a.route])).toEqual([[1, 'sent', 'ucell']]);
    await runtime!.stop();
    runtime = undefined;
    expect(s.unbinds).toBe(1);
  });

  it('binds a transmitter for submits and a receiver for receipts when the route says transmitter', async () => {
    const s = await smsc({ receipt: 'DELIVRD' });
    const rt = start([smppRoute('uzmobile', s.port, ['+99899'], { mode: 'transmitter' })]);
    const id = await otp('+998991234567', '654321');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    expect(s.binds.sort()).toEqual(['tasdiq/receiver', 'tasdiq/transmitter']);
    expect(rt.smpp!.receivers.map((r) => r.bindType)).toEqual(['receiver']);
  });

  it('marks a message failed when the receipt says it was not delivered', async () => {
    const s = await smsc({ receipt: 'UNDELIV' });
    start([smppRoute('ucell', s.port, ['+99893'])]);
    const id = await otp('+998931234567', '111111');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'failed', 10_000, 'failed');
    const row = await database.db.selectFrom('notify_outbox').select('last_error').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.last_error).toBe('receipt: UNDELIV');
  });

  it('reconnects and rebinds after the SMSC drops the connection', async () => {
    const s = await smsc({ receipt: 'DELIVRD' });
    const rt = start([smppRoute('beeline', s.port, ['+99890'], { enquireLinkMs: 200 })]);
    const first = await otp('+998901111111', '100001');
    await waitFor(async () => (await getNotificationStatus(database.db, first)) === 'delivered', 10_000, 'first delivered');
    s.dropAll();
    await waitFor(() => !rt.smpp!.connections[0]!.bound, 5_000, 'unbound');
    const second = await otp('+998901111111', '100002');
    await waitFor(async () => (await getNotificationStatus(database.db, second)) === 'delivered', 10_000, 'second delivered');
    expect(rt.smpp!.connections[0]!.binds).toBeGreaterThanOrEqual(2);
    expect(s.binds.length).toBeGreaterThanOrEqual(2);
    expect(s.messagesTo('998901111111')).toHaveLength(2);
    await waitFor(() => s.enquireLinks > 0, 3_000, 'enquire_link keep-alive');
  });

  it('keeps to the route rate and window, and retries submits the SMSC throttled', async () => {
    const s = await smsc({ receipt: 'DELIVRD', respondDelayMs: 30, throttleFirst: 3 });
    start([smppRoute('uztelecom', s.port, ['+99895'], { ratePerSecond: 40, windowSize: 2 })]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await otp(`+9989500000${String(i).padStart(2, '0')}`, String(200000 + i)));
    await waitFor(async () => {
      const rows = await database.db.selectFrom('notify_outbox').select('status').where('id', 'in', ids).execute();
      return rows.every((r) => r.status === 'delivered');
    }, 20_000, 'all delivered');
    expect(s.submits).toHaveLength(20);
    expect(s.maxOutstanding).toBeLessThanOrEqual(2);
    const times = s.submits.map((x) => x.at).sort((a, b) => a - b);
    // 23 submits (3 throttled) at 40/s take at least 22 gaps of 25 ms.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(400);
    for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(200);
  });

  it('keeps the lease of messages a slow SMSC holds, so a live worker never sends them twice', async () => {
    const s = await smsc({ receipt: 'DELIVRD', respondDelayMs: 250 });
    start([smppRoute('slow', s.port, ['+99890'], { windowSize: 1 })], { leaseMs: 600 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await otp('+998901234567', String(400000 + i)));
    await waitFor(async () => {
      const rows = await database.db.selectFrom('notify_outbox').select('status').where('id', 'in', ids).execute();
      return rows.every((r) => r.status === 'delivered');
    }, 15_000, 'all delivered');
    expect(s.submits).toHaveLength(6);
    const expired = await database.db.selectFrom('notify_attempts').select('id').where('outcome', '=', 'lease_expired').execute();
    expect(expired).toEqual([]);
  });

  it('sends a long message as concatenated segments and counts delivered only after every part', async () => {
    const s = await smsc({ receipt: 'DELIVRD' });
    start([smppRoute('mobiuz', s.port, ['+99897', '+99888'])]);
    const { id } = await database.db.transaction().execute((tx) =>
      enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: '+998971234567', locale: 'uz-Cyrl' }),
    );
    const expected = renderText('device.activated', 'uz-Cyrl', {});
    expect(expected.encoding).toBe('ucs2');
    expect(expected.segments).toBeGreaterThan(1);
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    const parts = s.submits.filter((x) => x.destination === '998971234567');
    expect(parts).toHaveLength(expected.segments);
    expect(parts.map((p) => p.concat!.seq).sort()).toEqual(Array.from({ length: expected.segments }, (_, i) => i + 1));
    expect(new Set(parts.map((p) => p.concat!.ref)).size).toBe(1);
    expect(parts.every((p) => p.dataCoding === 0x08 && p.text.length <= 67)).toBe(true);
    expect(s.messagesTo('998971234567')).toEqual([expected.text]);
    const refs = await database.db.selectFrom('notify_provider_refs').selectAll().where('message_id', '=', id).execute();
    expect(refs).toHaveLength(expected.segments);
    expect(refs.every((r) => r.receipt_status === 'DELIVRD')).toBe(true);
  });

  it('routes each number to the SMSC of its operator prefix, longest prefix first', async () => {
    const beeline = await smsc({ receipt: 'DELIVRD' });
    const ucell = await smsc({ receipt: 'DELIVRD' });
    start([smppRoute('beeline', beeline.port, ['+99890', '+99891']), smppRoute('ucell', ucell.port, ['+99893', '+99894', '+998901'])]);
    const toBeeline = await otp('+998911234567', '300001');
    const toUcell = await otp('+998941234567', '300002');
    const carved = await otp('+998901234567', '300003');
    const unrouted = await otp('+998331234567', '300004');
    for (const id of [toBeeline, toUcell, carved]) {
      await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    }
    expect(beeline.submits.map((x) => x.destination)).toEqual(['998911234567']);
    expect(ucell.submits.map((x) => x.destination).sort()).toEqual(['998901234567', '998941234567']);
    await waitFor(async () => (await getNotificationStatus(database.db, unrouted)) === 'failed', 10_000, 'unrouted failed');
    const row = await database.db.selectFrom('notify_outbox').select(['last_error', 'attempts', 'params']).where('id', '=', unrouted).executeTakeFirstOrThrow();
    expect(row).toEqual({ last_error: 'no SMSC route serves this number prefix', attempts: 1, params: '{}' });
  });
});
