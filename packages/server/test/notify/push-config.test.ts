import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, TasdiqApiError } from '../../../client/src/index.ts';
import { createTestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';
import { enqueueNotification, getNotificationStatus } from '../../src/notify/outbox.ts';
import { WebPushReceiver } from './push-receivers.ts';
import { waitFor } from './helpers.ts';

/** A P-256 public key as browsers take it for `applicationServerKey`: 65 bytes, uncompressed. */
function expectApplicationServerKey(key: string): void {
  const raw = Buffer.from(key, 'base64url');
  expect(raw.length).toBe(65);
  expect(raw[0]).toBe(0x04);
  expect(() =>
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' }),
  ).not.toThrow();
}

describe.each(testDialects())('the push configuration a device subscribes with on %s', (dialect) => {
  it('gives the development VAPID key kept in the data dir, and null outside development without keys', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-push-config-'));
    const app = await createTestApp(dialect, { config: { dataDir } });
    try {
      const res = await app.http.inject({ url: '/api/v1/device/push-config' });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ webPush: { applicationServerKey: string } | null; fcm: boolean; apns: boolean }>();
      const kept = JSON.parse(readFileSync(join(dataDir, 'vapid.json'), 'utf8')) as { publicKey: string };
      expect(body).toEqual({ webPush: { applicationServerKey: kept.publicKey }, fcm: false, apns: false });
      expectApplicationServerKey(body.webPush!.applicationServerKey);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
    } finally {
      await app.close();
    }
    // A restart on the same data dir keeps the key, so subscriptions survive.
    const again = await createTestApp(dialect, { config: { dataDir } });
    try {
      const res = await again.http.inject({ url: '/api/v1/device/push-config' });
      expect(res.json<{ webPush: { applicationServerKey: string } }>().webPush.applicationServerKey).toBe(
        (JSON.parse(readFileSync(join(dataDir, 'vapid.json'), 'utf8')) as { publicKey: string }).publicKey,
      );
    } finally {
      await again.close();
    }
    const production = await createTestApp(dialect, { config: { development: false, dataDir: mkdtempSync(join(tmpdir(), 'tasdiq-push-config-')) }, demo: false });
    try {
      const res = await production.http.inject({ url: '/api/v1/device/push-config' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ webPush: null, fcm: false, apns: false });
    } finally {
      await production.close();
    }
  });

  it('gives the configured VAPID key outside development, and is rate-limited', async () => {
    const keys = webpush.generateVAPIDKeys();
    const saved = { pub: process.env.TASDIQ_VAPID_PUBLIC_KEY, priv: process.env.TASDIQ_VAPID_PRIVATE_KEY };
    process.env.TASDIQ_VAPID_PUBLIC_KEY = keys.publicKey;
    process.env.TASDIQ_VAPID_PRIVATE_KEY = keys.privateKey;
    let app: Awaited<ReturnType<typeof createTestApp>> | undefined;
    try {
      app = await createTestApp(dialect, { config: { development: false, rateLimitPerMinute: 60 }, demo: false });
      const answers: number[] = [];
      for (let i = 0; i < 61; i++) answers.push((await app.http.inject({ url: '/api/v1/device/push-config' })).statusCode);
      expect(answers.slice(0, 60).every((s) => s === 200)).toBe(true);
      const limited = await app.http.inject({ url: '/api/v1/device/push-config' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: 'rate_limited' });
      const fresh = await createTestApp(dialect, { config: { development: false }, demo: false });
      try {
        expect((await fresh.http.inject({ url: '/api/v1/device/push-config' })).json()).toEqual({ webPush: { applicationServerKey: keys.publicKey }, fcm: false, apns: false });
      } finally {
        await fresh.close();
      }
    } finally {
      await app?.close();
      for (const [name, value] of [['TASDIQ_VAPID_PUBLIC_KEY', saved.pub], ['TASDIQ_VAPID_PRIVATE_KEY', saved.priv]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe.each(testDialects())('registering a Web Push subscription over the device protocol on %s', (dialect) => {
  let app: ListeningApp;
  let receiver: WebPushReceiver;
  beforeAll(async () => {
    app = await listeningApp(dialect);
    receiver = await WebPushReceiver.start();
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  it('refuses endpoints that are not push services, and wakes the device signed with the key push-config gave', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    const refusal = async (subscription: unknown) => {
      try {
        await device.request('PUT', '/api/v1/device/push-target', { kind: 'webpush', subscription });
      } catch (error) {
        if (error instanceof TasdiqApiError) return [error.status, error.code, error.detail];
        throw error;
      }
      return 'accepted';
    };
    const keys = receiver.subscription.keys;
    expect(await refusal({ endpoint: 'https://169.254.169.254/latest', keys })).toEqual([400, 'push_target_invalid', 'subscription.endpoint is not at a known push service']);
    expect(await refusal({ endpoint: 'https://10.0.0.1:8443/admin', keys })).toEqual([400, 'push_target_invalid', 'subscription.endpoint is not at a known push service']);
    expect(await refusal({ endpoint: [receiver.subscription.endpoint], keys })).toEqual([400, 'push_target_invalid', 'subscription.endpoint must be a string']);
    expect(await refusal({ endpoint: receiver.subscription.endpoint, keys: { ...keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString('base64url') } })).toEqual([
      400,
      'push_target_invalid',
      'keys.p256dh must be an uncompressed P-256 public key',
    ]);
    // Development: the loopback receiver (as the demo's) is allowed.
    expect(await refusal(receiver.subscription)).toBe('accepted');

    const config = await (await fetch(`${app.url}/api/v1/device/push-config`)).json() as { webPush: { applicationServerKey: string } };
    const { id } = await enqueueNotification(app.context.db, {
      kind: 'auth.open_app',
      channel: 'push',
      recipient: device.deviceId,
      locale: 'en',
      params: { service: 'my.gov.uz' },
      correlationId: 'auth_sess_over_http',
    });
    await waitFor(async () => (await getNotificationStatus(app.context.db, id)) === 'sent', 10_000, 'push sent');
    expect(receiver.errors).toEqual([]);
    expect(receiver.received.map((r) => r.path)).toEqual(['/push/sub-1']);
    // The push is signed with the key the app subscribed with.
    expect(/k=([A-Za-z0-9_-]+)/.exec(String(receiver.received[0]!.headers.authorization))?.[1]).toBe(config.webPush.applicationServerKey);
  });
});
