import { generateKeyPairSync, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ApiError } from '../../src/platform/errors.ts';
import { enqueueNotification, getNotificationStatus, getNotificationsByCorrelation } from '../../src/notify/outbox.ts';
import { listPushTargets, registerPushTarget } from '../../src/notify/push-targets.ts';
import { createNotifyRuntime, type NotifyRuntime } from '../../src/notify/runtime.ts';
import type { NotifyConfig } from '../../src/notify/config.ts';
import { ApnsServer, FcmServer, WebPushReceiver } from './push-receivers.ts';
import { notifyConfig, waitFor } from './helpers.ts';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

describe.each(testDialects())('push channels on %s', (dialect) => {
  let database: TestDatabase;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await database.dispose();
  });

  function start(config: Partial<NotifyConfig>): NotifyRuntime {
    const runtime = createNotifyRuntime({ db: database.db, dialect, logger, config: notifyConfig(config) });
    closers.push(() => runtime.stop());
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

  it('sends Web Push with VAPID and an RFC 8291 payload a receiver decrypts, carrying no personal data', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    const vapid = { subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() };
    start({ vapid });
    await registerPushTarget(database.db, 'dev_web_1', { kind: 'webpush', subscription: receiver.subscription });
    const { id } = await wake('dev_web_1', 'auth_sess_42');
    await waitFor(async () => (await getNotificationStatus(database.db, id)) === 'sent', 5_000, 'sent');
    expect(receiver.errors).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const [push] = receiver.received;
    expect(push!.payload).toEqual({ v: 1, type: 'wake', kind: 'auth.open_app', ref: 'auth_sess_42' });
    expect(JSON.stringify(push!.payload)).not.toContain('my.gov.uz');
    expect(push!.vapidClaims.sub).toBe('mailto:ops@tasdiq.example');
    expect(push!.headers.urgency).toBe('high');
    expect(Number(push!.headers.ttl)).toBeGreaterThan(0);
  });

  it('forgets a subscription the push service says is gone, and falls back to SMS', async () => {
    const receiver = await WebPushReceiver.start();
    closers.push(() => receiver.close());
    receiver.status = 410;
    start({ vapid: { subject: 'mailto:ops@tasdiq.example', ...webpush.generateVAPIDKeys() }, sms: 'dev' });
    await registerPushTarget(database.db, 'dev_web_2', { kind: 'webpush', subscription: receiver.subscription });
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
});
