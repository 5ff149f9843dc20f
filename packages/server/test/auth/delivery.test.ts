import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { authModule } from '../../src/auth/index.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';

// No SMS route at all, and push providers only for what a test configures: every message
// this file sends fails for real in the notify workers.
process.env.TASDIQ_SMS_CHANNEL = 'none';

describe.each(testDialects())('delivery failure on %s', (dialect) => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp(dialect);
  });
  afterAll(async () => app.close());

  it('ends DELIVERY_FAILED when the push and its SMS fallback both fail', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    // an FCM token, but no FCM credentials configured: the push cannot go out
    await device.request('PUT', '/api/v1/device/push-target', { kind: 'fcm', token: 'fcm-token-for-the-test-device-0001' });
    const rp = new SessionClient(app.url);
    const started = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
    const push = await app.context.db.selectFrom('notify_outbox').selectAll().where('correlation_id', '=', started.sessionId).executeTakeFirstOrThrow();
    expect(push).toMatchObject({ kind: 'auth.open_app', channel: 'push', recipient: device.deviceId });
    await expect.poll(async () => (await rp.result(started, 1000)).result, { timeout: 20_000, interval: 200 }).toBe('DELIVERY_FAILED');
    // the push failed, then its SMS fallback to the bound phone failed too
    const messages = await app.context.db.selectFrom('notify_outbox').select(['channel', 'status', 'recipient']).where('correlation_id', '=', started.sessionId).execute();
    expect(messages.map((m) => `${m.channel}:${m.status}:${m.recipient}`).sort()).toEqual([`push:failed:${device.deviceId}`, `sms:failed:${citizen.phone}`]);
  });
});

describe.each(testDialects())('delivery failures found at a busy hour on %s', (dialect) => {
  let app: ListeningApp;
  // No background tasks: the test moves the outbox and runs the sweep itself.
  beforeAll(async () => {
    app = await listeningApp(dialect, { background: false });
  });
  afterAll(async () => app.close());

  it('ends a session whose messages all failed, however many older sessions are still pending', async () => {
    const rp = new SessionClient(app.url);
    const started = [];
    for (let i = 0; i < 4; i++) {
      const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
      await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
      started.push(await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl }));
    }
    const newest = started.at(-1)!;
    // The newest session's push failed for good; the three before it are waiting for their citizens.
    await app.context.db.updateTable('notify_outbox').set({ status: 'failed', updated_at: app.clock() }).where('correlation_id', '=', newest.sessionId).execute();
    // A batch of two: the sweep must not be limited to the oldest pending sessions.
    expect(await authModule.service(app.context).failUndelivered(2)).toBe(1);
    expect((await rp.result(newest)).result).toBe('DELIVERY_FAILED');
    for (const session of started.slice(0, -1)) expect((await rp.result(session)).state).toBe('pending');
    // Read once: the next pass finds nothing new to end.
    expect(await authModule.service(app.context).failUndelivered(2)).toBe(0);
  });
});
