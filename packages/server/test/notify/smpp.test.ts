import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { enqueueNotification, getNotificationStatus } from '../../src/notify/outbox.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import type { SmppRouteConfig } from '../../src/notify/channels/smpp-connection.ts';
import { renderText } from '../../src/notify/templates.ts';
import { splitSms } from '../../src/notify/sms-segments.ts';
import { TestSmsc, type TestSmscOptions } from './smsc.ts';
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

  async function smsc(options: TestSmscOptions = {}): Promise<TestSmsc> {
    const s = await TestSmsc.start(options);
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

  const statuses = async (ids: string[]) => (await database.db.selectFrom('notify_outbox').select(['id', 'status']).where('id', 'in', ids).execute()).map((r) => r.status);
  const attempts = async (id: string) =>
    (await database.db.selectFrom('notify_attempts').selectAll().where('message_id', '=', id).orderBy('attempt').orderBy('started_at').execute()).map((a) => [a.attempt, a.outcome, a.segments]);

  it('settles every message even when the SMSC answers two submits with the same message id', async () => {
    const s = await smsc({ receipt: 'DELIVRD', fixedMessageId: 'same-id', respondDelayMs: 20 });
    start([smppRoute('reuse', s.port, ['+99890'], { windowSize: 5 })]);
    const ids = [await otp('+998901000001', '510001'), await otp('+998901000002', '510002')];
    // A long text: every one of its segments gets that id too.
    const long = (
      await database.db
        .transaction()
        .execute((tx) => enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: '+998901000003', locale: 'uz-Cyrl' }))
    ).id;
    ids.push(long);
    await waitFor(async () => (await statuses(ids)).every((st) => st === 'sent' || st === 'delivered'), 10_000, 'every message out of sending');
    const segments = splitSms(renderText('device.activated', 'uz-Cyrl', {}).text, 16).parts.length;
    expect(segments).toBeGreaterThan(1);
    // Each went to the SMSC once: nothing was retried because its outcome could not be written.
    expect(s.submits).toHaveLength(2 + segments);
    for (const id of ids) expect((await attempts(id)).map((a) => a[1])).toEqual(['sent']);
    const rows = await database.db.selectFrom('notify_outbox').select(['id', 'status', 'claimed_by', 'last_error']).where('id', 'in', ids).execute();
    expect(rows.every((r) => r.claimed_by === null)).toBe(true);
    // One message holds the ref and turns delivered on its receipt; the others say why they cannot.
    await waitFor(async () => (await statuses(ids)).includes('delivered'), 5_000, 'the ref holder delivered');
    const refs = await database.db.selectFrom('notify_provider_refs').selectAll().execute();
    expect(refs.map((r) => r.ref)).toEqual(['reuse:same-id']);
    const others = (await database.db.selectFrom('notify_outbox').select(['id', 'status', 'last_error']).where('id', 'in', ids).execute()).filter((r) => r.id !== refs[0]!.message_id);
    expect(others).toHaveLength(2);
    expect(others.every((r) => r.status === 'sent' && /another message/.test(r.last_error ?? ''))).toBe(true);
  });

  it('reconnects when the SMSC accepts the connection but never answers the bind', async () => {
    const s = await smsc({ receipt: 'DELIVRD', ignoreBinds: 1 });
    const rt = start([smppRoute('hung', s.port, ['+99890'], { responseTimeoutMs: 300 })]);
    const id = await otp('+998901234567', '520001');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered after a second bind');
    expect(s.bindRequests).toBe(2);
    expect(s.binds).toEqual(['tasdiq/transceiver']);
    expect(rt.smpp!.connections[0]!.binds).toBe(1);
  });

  it('reconnects when an enquire_link goes unanswered', async () => {
    const s = await smsc({ receipt: 'DELIVRD', ignoreEnquireLinks: 1 });
    const rt = start([smppRoute('silent', s.port, ['+99890'], { enquireLinkMs: 150, responseTimeoutMs: 300 })]);
    await waitFor(() => rt.smpp!.connections[0]!.bound, 5_000, 'bound');
    await waitFor(() => rt.smpp!.connections[0]!.binds >= 2, 5_000, 'a new bind after the unanswered enquire_link');
    expect(s.binds.length).toBeGreaterThanOrEqual(2);
    // The new session answers its enquire_links and stays bound.
    const before = s.enquireLinks;
    await waitFor(() => s.enquireLinks >= before + 2, 3_000, 'answered keep-alives');
    expect(rt.smpp!.connections[0]!.binds).toBe(2);
    const id = await otp('+998901234567', '530001');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
  });

  it('retries the submits in flight when the SMSC drops, and loses none', async () => {
    const s = await smsc({ receipt: 'DELIVRD', respondDelayMs: 200 });
    start([smppRoute('drop', s.port, ['+99890'], { windowSize: 4 })]);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await otp(`+9989010000${String(i).padStart(2, '0')}`, String(540000 + i)));
    await waitFor(() => s.outstanding >= 3, 5_000, 'submits in flight');
    s.dropAll();
    await waitFor(async () => (await statuses(ids)).every((st) => st === 'delivered'), 20_000, 'all delivered after the drop');
    const retried = await database.db.selectFrom('notify_attempts').select(['message_id', 'error']).where('outcome', '=', 'retry').execute();
    expect(retried.length).toBeGreaterThanOrEqual(3);
    // Only the submits the SMSC had in hand failed; those still waiting for the window waited
    // for the new bind instead of spending an attempt.
    expect(retried.every((r) => r.error === 'SMSC connection dropped before it answered')).toBe(true);
    for (let i = 0; i < 6; i++) {
      const to = `9989010000${String(i).padStart(2, '0')}`;
      // Answered into the dropped socket or sent again: at most twice, never lost.
      expect(s.messagesTo(to).length).toBeGreaterThanOrEqual(1);
      expect(s.messagesTo(to).length).toBeLessThanOrEqual(2);
    }
  });

  it('keeps the refs of segments a failed attempt put on the air, and resends under a new 16-bit reference', async () => {
    const s = await smsc({ receipt: 'DELIVRD', failSubmitNumber: 2 });
    start([smppRoute('mobiuz', s.port, ['+99897'])]);
    const { id } = await database.db
      .transaction()
      .execute((tx) => enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: '+998971234567', locale: 'uz-Cyrl' }));
    const text = renderText('device.activated', 'uz-Cyrl', {}).text;
    const segments = splitSms(text, 16).parts.length;
    expect(segments).toBeGreaterThan(1);
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    const parts = s.submits.filter((x) => x.destination === '998971234567');
    // The first attempt got one segment through before the SMSC failed the second.
    expect(parts).toHaveLength(1 + segments);
    expect(parts.every((p) => p.concat?.bits === 16 && p.text.length <= 66)).toBe(true);
    const references = [...new Set(parts.map((p) => p.concat!.ref))];
    expect(references).toHaveLength(2);
    expect(s.messagesTo('998971234567')).toEqual([text]);
    expect(await attempts(id)).toEqual([
      [1, 'retry', 1],
      [2, 'sent', segments],
    ]);
    const refs = await database.db.selectFrom('notify_provider_refs').selectAll().where('message_id', '=', id).execute();
    expect(refs.map((r) => r.attempt).sort()).toEqual([1, ...Array.from({ length: segments }, () => 2)]);
    // The early segment's receipt matched its message instead of nothing.
    expect(refs.every((r) => r.receipt_status === 'DELIVRD')).toBe(true);
  });

  it('records the segments each sent attempt took', async () => {
    const s = await smsc({ receipt: 'DELIVRD' });
    start([smppRoute('ucell', s.port, ['+99893'])]);
    const short = await otp('+998931234567', '550001');
    const { id: long } = await database.db
      .transaction()
      .execute((tx) => enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: '+998931234568', locale: 'ru' }));
    for (const id of [short, long]) await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    expect(await attempts(short)).toEqual([[1, 'sent', 1]]);
    expect(await attempts(long)).toEqual([[1, 'sent', s.submits.filter((x) => x.destination === '998931234568').length]]);
  });

  it('does not let a lease lapse while a slow message is in flight, however long the worker sleeps between passes', async () => {
    const s = await smsc({ receipt: 'DELIVRD', respondDelayMs: 1_500 });
    // Polling every 3 s with a 600 ms lease: renewals must not wait for a pass.
    start([smppRoute('slow', s.port, ['+99890'], { windowSize: 1, responseTimeoutMs: 5_000 })], { leaseMs: 600, pollMs: 3_000 });
    const id = await otp('+998901234567', '560001');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'delivered', 10_000, 'delivered');
    expect(s.submits).toHaveLength(1);
    expect(await attempts(id)).toEqual([[1, 'sent', 1]]);
  });
});
