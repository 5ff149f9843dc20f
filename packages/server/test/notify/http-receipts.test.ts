import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { enqueueNotification, getNotificationStatus } from '../../src/notify/outbox.ts';
import { TestSmsGateway } from './gateway.ts';
import { waitFor } from './helpers.ts';

const TOKEN = 'receipt-token-0123456789abcdef0123456789';

describe.each(testDialects())('delivery receipts from an HTTP SMS aggregator on %s', (dialect) => {
  let gateway: TestSmsGateway;
  const saved = { ...process.env };
  beforeAll(async () => {
    gateway = await TestSmsGateway.start();
    Object.assign(process.env, { TASDIQ_SMS_HTTP_URL: gateway.url, TASDIQ_SMS_HTTP_RECEIPT_TOKEN: TOKEN, TASDIQ_OUTBOX_POLL_MS: '20' });
  });
  afterAll(async () => {
    for (const key of ['TASDIQ_SMS_HTTP_URL', 'TASDIQ_SMS_HTTP_RECEIPT_TOKEN', 'TASDIQ_OUTBOX_POLL_MS']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await gateway.close();
  });

  it('turns an authenticated receipt into delivered and refuses strangers and bad bodies', async () => {
    const app = await createTestApp(dialect, { demo: false });
    try {
      const { id } = await enqueueNotification(app.context.db, { kind: 'device.activated', channel: 'sms', recipient: '+998901234567', locale: 'en' });
      await waitFor(async () => (await getNotificationStatus(app.context.db, id)) === 'sent', 5_000, 'sent');
      expect(gateway.requests.map((r) => r.reference)).toEqual([id]);
      const row = await app.context.db.selectFrom('notify_outbox').select('provider_message_id').where('id', '=', id).executeTakeFirstOrThrow();
      const providerId = row.provider_message_id!.replace(/^http:/, '');
      expect(providerId).toBe('gw-1');
      const post = (body: unknown, token = TOKEN) =>
        app.http.inject({ method: 'POST', url: '/api/v1/notify/sms-receipts', headers: { authorization: `Bearer ${token}` }, payload: body as object });
      const stranger = await post({ id: providerId, status: 'delivered' }, 'guess');
      expect(stranger.statusCode).toBe(401);
      expect(stranger.json()).toMatchObject({ code: 'unauthorized' });
      // A stranger learns nothing about bodies either: authentication comes before validation.
      const probing = await post({ id: 'x y', status: 'read', extra: 1 }, 'guess');
      expect(probing.statusCode).toBe(401);
      expect(probing.json()).toMatchObject({ code: 'unauthorized' });
      const noHeader = await app.http.inject({ method: 'POST', url: '/api/v1/notify/sms-receipts', payload: { nope: true } });
      expect(noHeader.json()).toMatchObject({ code: 'unauthorized' });
      expect((await post({ id: providerId, status: 'read' })).json()).toMatchObject({ code: 'validation_failed' });
      expect((await post({ id: 'x y', status: 'delivered' })).statusCode).toBe(400);
      expect(await getNotificationStatus(app.context.db, id)).toBe('sent');
      // The scheme is case-insensitive (RFC 9110 section 11.1).
      const lower = await app.http.inject({ method: 'POST', url: '/api/v1/notify/sms-receipts', headers: { authorization: `bearer ${TOKEN}` }, payload: { id: providerId, status: 'delivered' } });
      expect(lower.statusCode).toBe(204);
      expect(await getNotificationStatus(app.context.db, id)).toBe('delivered');
    } finally {
      await app.close();
    }
  });
});
