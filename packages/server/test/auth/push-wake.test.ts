import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';
import { WebPushReceiver } from '../notify/push-receivers.ts';

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'Davlat xizmatlari portali' };

/**
 * The push that wakes the phone, end to end: a real Web Push (VAPID, an empty wake) to a push
 * service on loopback, the app fetching its request, and the "open the app" SMS that follows a
 * push the phone never acted on.
 */
describe.each(testDialects())('waking the phone on %s', (dialect) => {
  let app: ListeningApp;
  let push: WebPushReceiver;
  const rp = () => new SessionClient(app.url);
  const messages = (sessionId: string) =>
    app.context.db.selectFrom('notify_outbox').select(['channel', 'status', 'kind', 'recipient']).where('correlation_id', '=', sessionId).orderBy('created_at').execute();

  beforeAll(async () => {
    app = await listeningApp(dialect);
    push = await WebPushReceiver.start();
  });
  afterAll(async () => {
    await app.close();
    await push.close();
  });

  let phones = 0;
  /** A phone with its own subscription, and the pushes that reached it. */
  const phone = async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    const subscription = push.subscriptionFor(++phones + 100);
    await device.request('PUT', '/api/v1/device/push-target', { kind: 'webpush', subscription });
    const path = new URL(subscription.endpoint).pathname;
    return { citizen, device, wakes: () => push.received.filter((p) => p.path === path) };
  };

  it('the push is an empty wake; fetching the request marks the push delivered and no SMS follows', async () => {
    const { citizen, device, wakes } = await phone();
    const started = await rp().start({ ...SERVICE, pinfl: citizen.pinfl });
    // Nothing through the push service but the wake itself (the receiver refuses a payload).
    await expect.poll(() => wakes().length, { timeout: 10_000 }).toBe(1);
    expect(await device.pending()).toMatchObject({ sessionId: started.sessionId });
    await expect.poll(async () => (await messages(started.sessionId)).map((m) => `${m.channel}:${m.status}`), { timeout: 10_000 }).toEqual(['push:delivered']);
    // Well past the fallback delay, still no SMS: the phone did fetch its request.
    app.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await messages(started.sessionId)).map((m) => m.channel)).toEqual(['push']);
    await device.confirm((await device.pending())!, started.verificationCode!);
    expect((await rp().result(started)).result).toBe('OK');
  });

  it('a push the provider took but the phone never acted on is followed by the "open the app" SMS', async () => {
    const { citizen, device } = await phone();
    const started = await rp().start({ ...SERVICE, pinfl: citizen.pinfl });
    await expect.poll(async () => (await messages(started.sessionId)).map((m) => `${m.channel}:${m.status}`), { timeout: 10_000 }).toEqual(['push:sent']);
    app.advance(31_000);
    await expect.poll(async () => (await messages(started.sessionId)).map((m) => `${m.channel}:${m.kind}:${m.recipient}`), { timeout: 10_000 }).toEqual([
      `push:auth.open_app:${device.deviceId}`,
      `sms:auth.open_app:${citizen.phone}`,
    ]);
    // The citizen opens the app from the SMS and confirms in time.
    await device.confirm((await device.pending())!, started.verificationCode!);
    expect((await rp().result(started)).result).toBe('OK');
  });

  it('a signing request wakes the phone as a signing request, and its "open the app" SMS asks for a signature', async () => {
    const { citizen, device, wakes } = await phone();
    const started = await rp().startSigning({ ...SERVICE, pinfl: citizen.pinfl, documentHash: Buffer.alloc(32, 7).toString('base64url'), documentName: 'Ariza.pdf' });
    await expect.poll(() => wakes().length, { timeout: 10_000 }).toBe(1);
    app.advance(31_000);
    await expect.poll(async () => (await messages(started.sessionId)).map((m) => `${m.channel}:${m.kind}`), { timeout: 10_000 }).toEqual(['push:sign.open_app', 'sms:sign.open_app']);
    const smsText = async () => (await app.context.db.selectFrom('notify_dev_inbox').select('text').where('recipient', '=', citizen.phone).where('kind', '=', 'sign.open_app').executeTakeFirst())?.text;
    await expect.poll(smsText, { timeout: 10_000 }).toContain('hujjatni imzolashingizni');
    await device.confirm((await device.pending())!, started.verificationCode!);
    expect((await rp().result(started)).result).toBe('OK');
  });

  it("the push reaches this process's worker with the write that starts the session, without a claim of its own", async () => {
    const taken = async (how: string) => Number(new RegExp(`tasdiq_notify_taken_total\\{how="${how}"\\} (\\d+)`).exec((await app.http.inject('/metrics')).body)?.[1] ?? 0);
    const { citizen, device, wakes } = await phone();
    const before = await taken('handed_over');
    const started = await rp().start({ ...SERVICE, pinfl: citizen.pinfl });
    await expect.poll(() => wakes().length, { timeout: 10_000 }).toBe(1);
    expect(await taken('handed_over')).toBe(before + 1);
    await device.confirm((await device.pending())!, started.verificationCode!);
    expect((await rp().result(started)).result).toBe('OK');
  });

  it('a revoked device has no push target left', async () => {
    const { device } = await phone();
    const targets = () => app.context.db.selectFrom('notify_push_targets').select('id').where('device_id', '=', device.deviceId).execute();
    expect(await targets()).toHaveLength(1);
    await device.request('POST', '/api/v1/device/revoke');
    expect(await targets()).toHaveLength(0);
  });
});
