import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ApiError } from '../../src/platform/errors.ts';
import { enqueueNotification, getNotificationStatus, getNotificationsByCorrelation, markDelivered } from '../../src/notify/outbox.ts';
import {
  listPushTargets,
  MAX_PUSH_TARGETS_PER_KIND,
  registerPushTarget,
  STRICT_WEBPUSH_POLICY,
  type PushTargetInput,
  type WebPushPolicy,
} from '../../src/notify/push-targets.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import type { NotifyConfig } from '../../src/notify/config.ts';
import { ApnsServer, FcmServer, WebPushReceiver } from './push-receivers.ts';
import { FAST_WORKER, notifyConfig, smppRoute, waitFor } from './helpers.ts';
import { TestSmsc } from './smsc.ts';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');
/** The loopback receivers of this file, listed as a deployment lists its push services. */
const LOOPBACK: WebPushPolicy = { hosts: ['127.0.0.1'], allowLoopback: false };

describe.each(testDialects())('push channels on %s', (dialect) => {
  let database: TestDatabase;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  const runtimes: NotifyRuntime[] = [];
  afterEach(async () => {
    await stopRuntimes();
    for (const close of closers.splice(0).reverse()) await close();
    await database.dispose();
  });

  async function stopRuntimes(): Promise<void> {
    for (const runtime of runtimes.splice(0)) await runtime.stop();
  }

  function start(config: Partial<NotifyConfig>, workerId?: string): NotifyRuntime {
    const runtime = createNotifyRuntime({ db: database.db, dialect, logger, config: notifyConfig(config), ...(workerId ? { workerId } : {}) });
    runtimes.push(runtime);
    runtime.start();
    return runtime;
  }

  const wake = (deviceId: string, correlationId: string, fallback = false) =>
    enqueueNotification(database.db, {
      kind: 'auth.open_app',
      channel: 'push',
      recipient: deviceId,
      locale: 'en',
      params: { service: 'my.gov.uz' },
      correlationId,
      ...(fallback ? { fallback: { channel: 'sms' as const, recipient: '+998901234567' } } : {}),
    });

  it('sends Web Push with VAPID as an empty wake that replaces an undelivered one, carrying no data at all', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    const vapid = { subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() };
    start({ vapid });
    await registerPushTarget(database.db, 'dev_web_1', { kind: 'webpush', subscription: receiver.subscription }, Date.now(), LOOPBACK);
    const { id } = await wake('dev_web_1', 'auth_sess_42');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(receiver.errors).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const [push] = receiver.received;
    // The receiver refuses a wake with a body; this one reached it at its subscription's path.
    expect(push!.path).toBe('/push/sub-1');
    expect(push!.headers['content-length']).toBe('0');
    expect(push!.headers.host).toBe(new URL(receiver.subscription.endpoint).host);
    expect(push!.vapidClaims.aud).toBe(new URL(receiver.subscription.endpoint).origin);
    expect(push!.headers.topic).toBe('tasdiq-wake');
    expect(push!.vapidClaims.sub).toBe('mailto:ops@tasdiq.example');
    expect(push!.headers.urgency).toBe('high');
    expect(Number(push!.headers.ttl)).toBeGreaterThan(0);
  });

  it('forgets a subscription the push service says is gone, and falls back to SMS', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    receiver.status = 410;
    start({ vapid: { subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() }, sms: 'dev' });
    await registerPushTarget(database.db, 'dev_web_2', { kind: 'webpush', subscription: receiver.subscription }, Date.now(), LOOPBACK);
    await wake('dev_web_2', 'auth_sess_43', true);
    const list = await waitFor(async () => {
      const l = await getNotificationsByCorrelation(database.db, 'auth_sess_43');
      return l.length === 2 && l[1]!.status === 'delivered' ? l : undefined;
    }, 5_000, 'fallback delivered');
    expect(list.map((m) => [m.channel, m.status])).toEqual([['push', 'failed'], ['sms', 'delivered']]);
    expect(await listPushTargets(database.db, 'dev_web_2')).toEqual([]);
  });

  it('sends FCM HTTP v1 messages with a service-account token, and drops unregistered tokens', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const fcm = await FcmServer.start(publicKey);
    closers.push(() => fcm.close());
    start({
      fcm: {
        endpoint: fcm.base,
        tokenUrl: `${fcm.base}/token`,
        projectId: 'tasdiq-test',
        clientEmail: 'tasdiq@test.iam.gserviceaccount.com',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const token = `fcm-${randomBytes(24).toString('base64url')}`;
    await registerPushTarget(database.db, 'dev_android_1', { kind: 'fcm', token });
    const { id } = await wake('dev_android_1', 'auth_sess_44');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(fcm.errors).toEqual([]);
    expect(fcm.sent.map((s) => s.message)).toEqual([
      { token, data: { v: '1', type: 'wake', kind: 'auth.open_app', ref: 'auth_sess_44' }, android: { priority: 'HIGH', ttl: '120s' } },
    ]);
    const row = await database.db.selectFrom('notify_outbox').select('provider_message_id').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.provider_message_id).toBe('fcm:m1');
    fcm.unregistered.add(token);
    const second = await wake('dev_android_1', 'auth_sess_45');
    await waitFor(async () => (await getNotificationStatus(database.db, second.id)) === 'failed', 5_000, 'failed');
    expect(await listPushTargets(database.db, 'dev_android_1')).toEqual([]);
  });

  it('sends APNs over HTTP/2 with an ES256 provider token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const apns = await ApnsServer.start(publicKey);
    closers.push(() => apns.close());
    start({
      apns: {
        endpoint: apns.base,
        teamId: 'TEAM123456',
        keyId: 'KEY1234567',
        topic: 'uz.tasdiq.app',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const token = randomBytes(32).toString('hex');
    await registerPushTarget(database.db, 'dev_ios_1', { kind: 'apns', token });
    const { id } = await wake('dev_ios_1', 'auth_sess_46');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(apns.errors).toEqual([]);
    expect(apns.sent).toHaveLength(1);
    expect(apns.sent[0]!.token).toBe(token);
    expect(apns.sent[0]!.headers['apns-push-type']).toBe('alert');
    expect(apns.sent[0]!.body).toEqual({
      aps: { alert: { 'loc-key': 'TASDIQ_REQUEST' }, 'mutable-content': 1, sound: 'default' },
      v: 1,
      type: 'wake',
      kind: 'auth.open_app',
      ref: 'auth_sess_46',
    });
  });

  it('refuses malformed push targets with push_target_invalid and keeps re-registration idempotent', async () => {
    const bad = [
      { kind: 'webpush', subscription: { endpoint: 'http://push.example/x', keys: { p256dh: 'AAAA', auth: 'AAAA' } } },
      { kind: 'webpush', subscription: { endpoint: 'not a url', keys: {} } },
      { kind: 'apns', token: 'zz' },
      { kind: 'fcm', token: '' },
      { kind: 'sms', token: 'x' },
    ];
    for (const target of bad) {
      await expect(registerPushTarget(database.db, 'dev_x', target as never)).rejects.toSatisfy((e) => e instanceof ApiError && e.code === 'push_target_invalid');
    }
    const token = randomBytes(32).toString('hex');
    const a = await registerPushTarget(database.db, 'dev_old', { kind: 'apns', token });
    const b = await registerPushTarget(database.db, 'dev_new', { kind: 'apns', token });
    expect(b.id).toBe(a.id);
    expect(await listPushTargets(database.db, 'dev_old')).toEqual([]);
    expect((await listPushTargets(database.db, 'dev_new')).map((t) => t.address)).toEqual([token]);
  });

  const vapid = () => ({ subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() });
  const attemptsOf = async (id: string) =>
    (await database.db.selectFrom('notify_attempts').select(['attempt', 'outcome', 'error']).where('message_id', '=', id).orderBy('attempt').orderBy('started_at').execute()).map((a) => [a.attempt, a.outcome]);
  const problemCode = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof ApiError) return `${error.code}/${error.errors?.[0]?.code}`;
      throw error;
    }
    return 'accepted';
  };

  it('refuses Web Push endpoints outside the push services, keys off the curve and endpoints that are not strings', async () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    const register = (endpoint: unknown, k: unknown = keys, policy: WebPushPolicy = STRICT_WEBPUSH_POLICY) =>
      problemCode(registerPushTarget(database.db, 'dev_ssrf', { kind: 'webpush', subscription: { endpoint, keys: k } } as PushTargetInput, Date.now(), policy));
    const refused: Array<[unknown, string]> = [
      ['http://127.0.0.1:6379/', 'push_target_invalid/endpoint_host_not_allowed'],
      ['http://localhost:8080/admin', 'push_target_invalid/endpoint_host_not_allowed'],
      ['https://169.254.169.254/latest', 'push_target_invalid/endpoint_host_not_allowed'],
      ['https://10.0.0.1:8443/admin', 'push_target_invalid/endpoint_host_not_allowed'],
      ['https://[::ffff:127.0.0.1]/', 'push_target_invalid/endpoint_host_not_allowed'],
      ['https://fcm.googleapis.com.evil.example/fcm/send/x', 'push_target_invalid/endpoint_host_not_allowed'],
      ['https://push.apple.com/x', 'push_target_invalid/endpoint_host_not_allowed'],
      ['http://fcm.googleapis.com/fcm/send/x', 'push_target_invalid/endpoint_not_https'],
      ['https://user:pw@fcm.googleapis.com/fcm/send/x', 'push_target_invalid/endpoint_invalid'],
      [['https://fcm.googleapis.com/fcm/send/x'], 'push_target_invalid/endpoint_invalid'],
      [{ href: 'https://fcm.googleapis.com/' }, 'push_target_invalid/endpoint_invalid'],
      ['not a url', 'push_target_invalid/endpoint_invalid'],
    ];
    for (const [endpoint, code] of refused) expect([endpoint, await register(endpoint)]).toEqual([endpoint, code]);
    const offCurve = Buffer.from(ecdh.getPublicKey());
    offCurve.writeUInt8(offCurve.readUInt8(64) ^ 1, 64);
    const endpoint = 'https://fcm.googleapis.com/fcm/send/abc';
    expect(await register(endpoint, { ...keys, p256dh: offCurve.toString('base64url') })).toBe('push_target_invalid/p256dh_invalid');
    expect(await register(endpoint, { ...keys, p256dh: Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64)]).toString('base64url') })).toBe('push_target_invalid/p256dh_invalid');
    expect(await register(endpoint, { ...keys, p256dh: ecdh.getPublicKey(undefined, 'compressed').toString('base64url') })).toBe('push_target_invalid/p256dh_invalid');
    expect(await register(endpoint, { ...keys, auth: randomBytes(15).toString('base64url') })).toBe('push_target_invalid/auth_invalid');
    expect(await register(endpoint, { p256dh: keys.p256dh })).toBe('push_target_invalid/auth_invalid');
    expect(await listPushTargets(database.db, 'dev_ssrf')).toEqual([]);
    // The browsers' push services are accepted, and loopback only where a policy allows it.
    for (const ok of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://web.push.apple.com/QGx1',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    ]) {
      expect(await register(ok)).toBe('accepted');
    }
    expect(await register('http://127.0.0.1:6379/', keys, { hosts: STRICT_WEBPUSH_POLICY.hosts, allowLoopback: true })).toBe('accepted');
    expect(await register('https://10.0.0.1:8443/admin', keys, { hosts: ['127.0.0.1'], allowLoopback: true })).toBe('push_target_invalid/endpoint_host_not_allowed');
    expect((await listPushTargets(database.db, 'dev_ssrf')).map((t) => JSON.parse(t.address).endpoint as string).sort()).toEqual([
      'http://127.0.0.1:6379/',
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
      'https://web.push.apple.com/QGx1',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    ]);
  });

  it('keeps at most five targets of a kind per device, forgetting the oldest, and wakes only those', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    start({ vapid: vapid() });
    const t0 = Date.now();
    for (let n = 1; n <= 7; n++) await registerPushTarget(database.db, 'dev_many', { kind: 'webpush', subscription: receiver.subscriptionFor(n) }, t0 + n, LOOPBACK);
    await registerPushTarget(database.db, 'dev_many', { kind: 'fcm', token: `fcm-${randomBytes(24).toString('base64url')}` }, t0 + 8);
    const targets = await listPushTargets(database.db, 'dev_many');
    expect(targets.filter((t) => t.kind === 'webpush').map((t) => JSON.parse(t.address).endpoint.split('/').pop()).sort()).toEqual(['sub-3', 'sub-4', 'sub-5', 'sub-6', 'sub-7']);
    expect(targets.filter((t) => t.kind === 'fcm')).toHaveLength(1);
    // Registering a kept one again refreshes it: now sub-4 is the oldest to go.
    await registerPushTarget(database.db, 'dev_many', { kind: 'webpush', subscription: receiver.subscriptionFor(3) }, t0 + 9, LOOPBACK);
    await registerPushTarget(database.db, 'dev_many', { kind: 'webpush', subscription: receiver.subscriptionFor(8) }, t0 + 10, LOOPBACK);
    const kept = (await listPushTargets(database.db, 'dev_many')).filter((t) => t.kind === 'webpush').map((t) => JSON.parse(t.address).endpoint.split('/').pop());
    expect(kept.sort()).toEqual(['sub-3', 'sub-5', 'sub-6', 'sub-7', 'sub-8']);
    // Targets stored before the cap (more than five) still get at most five pushes.
    for (let n = 20; n < 24; n++) {
      await database.db
        .insertInto('notify_push_targets')
        .values({ id: `old-${n}`, device_id: 'dev_many', kind: 'webpush', address: JSON.stringify(receiver.subscriptionFor(n)), address_hash: `h${n}`, created_at: t0, updated_at: t0 })
        .execute();
    }
    const { id } = await wake('dev_many', 'auth_sess_cap');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(receiver.received).toHaveLength(MAX_PUSH_TARGETS_PER_KIND);
    expect(receiver.received.map((r) => r.path.split('/').pop()).sort()).toEqual(['sub-3', 'sub-5', 'sub-6', 'sub-7', 'sub-8']);
  });

  it('checks stored targets again when sending: no push to a host the policy does not list, none through a redirect, none to a broken key', async () => {
    const receiver = await WebPushReceiver.start();
    const internal = await WebPushReceiver.start();
    closers.push(() => receiver.close(), () => internal.close());
    // Outside development, listing only the push services: a target stored before the policy
    // (or under another one) that points at a loopback service gets nothing sent to it.
    start({ vapid: vapid(), development: false, webPush: STRICT_WEBPUSH_POLICY, sms: 'none' });
    const t = Date.now();
    const insert = (device: string, address: string) =>
      database.db.insertInto('notify_push_targets').values({ id: `t-${device}`, device_id: device, kind: 'webpush', address, address_hash: `h-${device}`, created_at: t, updated_at: t }).execute();
    await insert('dev_legacy', JSON.stringify(internal.subscription));
    const legacy = await wake('dev_legacy', 'auth_sess_legacy');
    await waitFor(async () => (await getNotificationStatus(database.db, legacy.id)) === 'failed', 5_000, 'failed');
    expect(internal.requests).toBe(0);
    expect(await attemptsOf(legacy.id)).toEqual([[1, 'failed']]);
    expect(await listPushTargets(database.db, 'dev_legacy')).toEqual([]);
    await stopRuntimes();

    // A listed receiver that redirects elsewhere: the redirect is not followed.
    start({ vapid: vapid(), webPush: LOOPBACK, development: false, sms: 'none' });
    receiver.redirectTo = `${internal.base}/push/sub-1`;
    await registerPushTarget(database.db, 'dev_redirect', { kind: 'webpush', subscription: receiver.subscription }, Date.now(), LOOPBACK);
    const redirected = await wake('dev_redirect', 'auth_sess_redirect');
    await waitFor(async () => (await getNotificationStatus(database.db, redirected.id)) === 'failed', 5_000, 'failed');
    expect(receiver.requests).toBe(1);
    expect(internal.requests).toBe(0);
    expect(await attemptsOf(redirected.id)).toEqual([[1, 'failed']]);
    expect(await listPushTargets(database.db, 'dev_redirect')).toEqual([]);

    // A key that cannot encrypt fails once for good instead of five times.
    const zero = { ...receiver.subscription, keys: { ...receiver.subscription.keys, p256dh: Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64)]).toString('base64url') } };
    await insert('dev_badkey', JSON.stringify(zero));
    const badKey = await wake('dev_badkey', 'auth_sess_badkey');
    await waitFor(async () => (await getNotificationStatus(database.db, badKey.id)) === 'failed', 5_000, 'failed');
    expect(await attemptsOf(badKey.id)).toEqual([[1, 'failed']]);
  });

  it('sends the fallback SMS after fallbackAfterMs when the pushed device never fetched its request, once, with two workers', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    const smsc = await TestSmsc.start({ receipt: 'DELIVRD' });
    closers.push(() => smsc.close());
    const keys = vapid();
    const sms = { sms: 'smpp' as const, smppRoutes: [smppRoute('beeline', smsc.port, ['+99890'])] };
    start({ vapid: keys, ...sms }, 'worker-a');
    start({ vapid: keys, ...sms }, 'worker-b');
    await registerPushTarget(database.db, 'dev_silent', { kind: 'webpush', subscription: receiver.subscription }, Date.now(), LOOPBACK);
    const { id } = await enqueueNotification(database.db, {
      kind: 'auth.open_app',
      channel: 'push',
      recipient: 'dev_silent',
      locale: 'en',
      params: { service: 'my.gov.uz' },
      correlationId: 'auth_sess_silent',
      fallback: { channel: 'sms', recipient: '+998901234500' },
      fallbackAfterMs: 300,
    });
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'push sent');
    const sent = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(receiver.received).toHaveLength(1);
    // Accepted by the push service; the code-free parameters wait with the fallback, not in params.
    expect(sent).toMatchObject({ params: '{}', fallback_due_at: sent.sent_at! + 300 });
    expect(JSON.parse(sent.fallback!)).toEqual({ channel: 'sms', recipient: '+998901234500', params: { service: 'my.gov.uz' } });
    const list = await waitFor(async () => {
      const l = await getNotificationsByCorrelation(database.db, 'auth_sess_silent');
      return l.length === 2 && l[1]!.status === 'delivered' ? l : undefined;
    }, 5_000, 'fallback SMS delivered');
    expect(list.map((m) => [m.channel, m.status])).toEqual([['push', 'failed'], ['sms', 'delivered']]);
    expect(smsc.messagesTo('998901234500')).toEqual(['Tasdiq: my.gov.uz asks you to confirm a sign-in. Open the Tasdiq app.']);
    const push = await database.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(push).toMatchObject({ fallback: null, fallback_due_at: null, params: '{}', last_error: 'not delivered within 300 ms of sending; fell back to sms' });
    const fallbackMessage = await database.db.selectFrom('notify_outbox').select('created_at').where('correlation_id', '=', 'auth_sess_silent').where('channel', '=', 'sms').executeTakeFirstOrThrow();
    expect(fallbackMessage.created_at).toBeGreaterThanOrEqual(sent.sent_at! + 300);
    // Two workers looked at it; one fallback went. Waiting longer changes nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect(await getNotificationsByCorrelation(database.db, 'auth_sess_silent')).toHaveLength(2);
    expect(smsc.submits).toHaveLength(1);
    // A fetch after the fallback went changes nothing: the push stays failed, the SMS went.
    expect(await markDelivered(database.db, 'auth_sess_silent', 'push')).toBe(0);
    expect(await getNotificationStatus(database.db, id)).toBe('failed');
  });

  it('sends no fallback when the device fetched its request in time, even while its push was still being sent', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    start({ vapid: vapid(), sms: 'dev' });
    await registerPushTarget(database.db, 'dev_quick', { kind: 'webpush', subscription: receiver.subscription }, Date.now(), LOOPBACK);
    const enqueue = (correlationId: string) =>
      enqueueNotification(database.db, {
        kind: 'auth.open_app',
        channel: 'push',
        recipient: 'dev_quick',
        locale: 'en',
        params: { service: 'my.gov.uz' },
        correlationId,
        fallback: { channel: 'sms', recipient: '+998901234501' },
        fallbackAfterMs: 300,
      });
    // Fetched after the push was recorded sent.
    const first = await enqueue('auth_sess_quick');
    await waitFor(async () => (await getNotificationStatus(database.db, first.id)) === 'sent', 5_000, 'sent');
    expect(await markDelivered(database.db, 'auth_sess_quick', 'push')).toBe(1);
    expect(await getNotificationStatus(database.db, first.id)).toBe('delivered');
    // Fetched while the push service was still answering: settled delivered when recorded.
    receiver.delayMs = 400;
    const second = await enqueue('auth_sess_inflight');
    await waitFor(async () => (await getNotificationStatus(database.db, second.id)) === 'sending', 5_000, 'sending');
    await waitFor(() => receiver.requests === 2, 5_000, 'push at the service');
    expect(await markDelivered(database.db, 'auth_sess_inflight', 'push')).toBe(1);
    await waitFor(async () => (await getNotificationStatus(database.db, second.id)) === 'delivered', 5_000, 'delivered');
    receiver.delayMs = 0;
    // Opened by hand before the push went: it is not sent at all.
    await stopRuntimes();
    const third = await enqueue('auth_sess_byhand');
    expect(await markDelivered(database.db, 'auth_sess_byhand', 'push')).toBe(1);
    start({ vapid: vapid(), sms: 'dev' });
    await new Promise((r) => setTimeout(r, 700));
    expect(await getNotificationStatus(database.db, third.id)).toBe('delivered');
    expect(receiver.requests).toBe(2);
    for (const correlation of ['auth_sess_quick', 'auth_sess_inflight', 'auth_sess_byhand']) {
      expect((await getNotificationsByCorrelation(database.db, correlation)).map((m) => [m.channel, m.status])).toEqual([['push', 'delivered']]);
    }
    expect(await database.db.selectFrom('notify_dev_inbox').select('id').execute()).toEqual([]);
    const rows = await database.db.selectFrom('notify_outbox').select(['fallback', 'fallback_due_at', 'params']).execute();
    expect(rows.every((r) => r.fallback === null && r.fallback_due_at === null && r.params === '{}')).toBe(true);
  });

  it('refuses fallbackAfterMs where it cannot work', async () => {
    const base = { kind: 'auth.open_app', locale: 'en' as const, params: { service: 's' } };
    await expect(enqueueNotification(database.db, { ...base, channel: 'push', recipient: 'd', fallbackAfterMs: 1000 })).rejects.toThrow('needs a fallback');
    await expect(enqueueNotification(database.db, { ...base, channel: 'sms', recipient: '+998901234567', fallbackAfterMs: 1000, fallback: { channel: 'sms', recipient: '+998901234567' } })).rejects.toThrow('for push');
    await expect(enqueueNotification(database.db, { ...base, channel: 'push', recipient: 'd', fallbackAfterMs: 0.5, fallback: { channel: 'sms', recipient: '+998901234567' } })).rejects.toThrow('integer');
  });

  function apnsConfig(endpoint: string, privateKey: string, timeoutMs?: number): NonNullable<NotifyConfig['apns']> {
    return { endpoint, teamId: 'TEAM123456', keyId: 'KEY1234567', topic: 'uz.tasdiq.app', privateKey, ...(timeoutMs ? { timeoutMs } : {}) };
  }

  it('APNs: forgets tokens Apple says are gone, signs a new provider token when told it expired, and retries a push APNs never answered', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const apns = await ApnsServer.start(publicKey);
    closers.push(() => apns.close());
    start({ apns: apnsConfig(apns.base, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 300), worker: { ...FAST_WORKER, baseBackoffMs: 50 } });
    const unregistered = randomBytes(32).toString('hex');
    const bad = randomBytes(32).toString('hex');
    apns.refuse.set(unregistered, { status: 410, reason: 'Unregistered' });
    apns.refuse.set(bad, { status: 400, reason: 'BadDeviceToken' });
    await registerPushTarget(database.db, 'dev_ios_gone', { kind: 'apns', token: unregistered });
    await registerPushTarget(database.db, 'dev_ios_bad', { kind: 'apns', token: bad });
    const gone = await wake('dev_ios_gone', 'auth_sess_ios_gone');
    const badOne = await wake('dev_ios_bad', 'auth_sess_ios_bad');
    for (const m of [gone, badOne]) await waitFor(async () => (await getNotificationStatus(database.db, m.id)) === 'failed', 5_000, 'failed');
    expect(await listPushTargets(database.db, 'dev_ios_gone')).toEqual([]);
    expect(await listPushTargets(database.db, 'dev_ios_bad')).toEqual([]);
    expect(await attemptsOf(gone.id)).toEqual([[1, 'failed']]);

    // ExpiredProviderToken: the provider signs a fresh token and the push goes through at once.
    const token = randomBytes(32).toString('hex');
    await registerPushTarget(database.db, 'dev_ios_ok', { kind: 'apns', token });
    for (const jwt of apns.providerTokens) apns.expired.add(jwt);
    const seenBefore = apns.providerTokens.length;
    const renewed = await wake('dev_ios_ok', 'auth_sess_ios_renew');
    await waitFor(async () => (await getNotificationStatus(database.db, renewed.id)) === 'sent', 5_000, 'sent after a new provider token');
    const presented = apns.providerTokens.slice(seenBefore);
    expect(presented).toHaveLength(2);
    expect(apns.expired.has(presented[0]!)).toBe(true);
    expect(presented[1]).not.toBe(presented[0]);
    expect(await attemptsOf(renewed.id)).toEqual([[1, 'sent']]);

    // No answer in time (status 0): transient, so retried and sent.
    apns.hang.set(token, 1);
    const hung = await wake('dev_ios_ok', 'auth_sess_ios_hang');
    await waitFor(async () => (await getNotificationStatus(database.db, hung.id)) === 'sent', 8_000, 'sent after a timeout');
    expect(await attemptsOf(hung.id)).toEqual([[1, 'retry'], [2, 'sent']]);
    const [retry] = await database.db.selectFrom('notify_attempts').select('error').where('message_id', '=', hung.id).where('outcome', '=', 'retry').execute();
    expect(retry!.error).toContain('did not answer');
    expect(apns.errors).toEqual([]);
  });

  it('FCM: a revoked access token is replaced and the push goes through on the same attempt', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const fcm = await FcmServer.start(publicKey);
    closers.push(() => fcm.close());
    start({
      fcm: { endpoint: fcm.base, tokenUrl: `${fcm.base}/token`, projectId: 'tasdiq-test', clientEmail: 'tasdiq@test.iam.gserviceaccount.com', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    });
    const token = `fcm-${randomBytes(24).toString('base64url')}`;
    await registerPushTarget(database.db, 'dev_android_401', { kind: 'fcm', token });
    const first = await wake('dev_android_401', 'auth_sess_fcm_1');
    await waitFor(async () => (await getNotificationStatus(database.db, first.id)) === 'sent', 5_000, 'sent');
    expect(fcm.tokensIssued).toBe(1);
    fcm.revoked.add('at-1');
    const second = await wake('dev_android_401', 'auth_sess_fcm_2');
    await waitFor(async () => (await getNotificationStatus(database.db, second.id)) === 'sent', 5_000, 'sent with a new access token');
    expect(fcm.rejected).toBe(1);
    expect(fcm.tokensIssued).toBe(2);
    expect(fcm.sent).toHaveLength(2);
    expect(await attemptsOf(second.id)).toEqual([[1, 'sent']]);
    expect(fcm.errors).toEqual([]);
  });
});

describe('Web Push provider', () => {
  it('gives up on a push service that accepts the connection but never answers, within its timeout', async () => {
    const { createServer } = await import('node:net');
    const { WebPushProvider } = await import('../../src/notify/channels/web-push.ts');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const provider = new WebPushProvider({ subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() }, { policy: LOOPBACK, timeoutMs: 300 });
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const address = JSON.stringify({ endpoint: `http://127.0.0.1:${port}/silent`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } });
    const wake = { v: 1, type: 'wake', kind: 'auth.open_app', ref: 'as_test' } as const;
    try {
      const started = Date.now();
      await expect(provider.send(address, wake)).rejects.toThrow(/no answer in 300 ms/);
      expect(Date.now() - started).toBeLessThan(2_000);
      // The checked endpoint is kept, and the refusal of one outside the policy too.
      await expect(provider.send(address, wake)).rejects.toThrow(/no answer/);
      const elsewhere = address.replace('127.0.0.1', '10.0.0.1');
      expect(await provider.send(elsewhere, wake)).toMatchObject({ ok: false, permanent: true, error: 'webpush: endpoint_not_https' });
    } finally {
      await provider.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
