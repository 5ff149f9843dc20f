import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient } from '../../../client/src/index.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import type { Authenticator } from '../../src/oidc/authenticator.ts';
import { activateHardwareDevice, enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';

const client = { clientId: 'portal', name: { 'uz-Latn': 'Portal', 'uz-Cyrl': 'Портал', ru: 'Портал', en: 'Portal' } };

describe('the OpenID provider seam served by device sessions', () => {
  let app: ListeningApp;
  let authenticator: Authenticator;
  beforeAll(async () => {
    app = await listeningApp('sqlite');
    // With the service database, as deployed: amr names how the device keeps its keys.
    authenticator = createDeviceAuthenticator(authModule.service(app.context), app.context.db);
  });
  afterAll(async () => app.close());

  it('starts on the login hint, is pending until the phone confirms, then approves with acr and amr', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    // Enrolled in person, keys attested as hardware-backed: high, and amr says hwk.
    const device = await activateHardwareDevice(app.url, await citizen.activationCode());
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:substantial'], client, bindingMessage: 'Kirish 42' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    expect(await authenticator.poll(started.attemptId)).toEqual({ status: 'pending' });
    const request = (await device.pending())!;
    // CIBA (a binding message): the phone shows the message to confirm, not the code choice.
    expect(request).toMatchObject({ service: 'Portal', reason: 'Kirish 42', interaction: 'confirmation_message', confirmationMessage: 'Kirish 42', verificationCodeChoices: null });
    const signed = JSON.parse(Buffer.from(request.signingInput.split('.')[1]!, 'base64url').toString('utf8')) as { msg?: string };
    expect(signed.msg).toBe('Kirish 42');
    await device.confirm(request);
    const result = await authenticator.poll(started.attemptId);
    expect(result).toMatchObject({ status: 'approved', citizenId: citizen.citizenId, acr: 'urn:tasdiq:acr:high', amr: ['user', 'mfa', 'hwk'] });
  });

  it('sign-in pages keep the code choice; a confirmation without the right code still fails there', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:substantial'], client });
    if (started.status !== 'pending') throw new Error('not pending');
    expect(started).toMatchObject({ smsFallback: false, deviceLink: null });
    expect(started.verificationCode).toMatch(/^\d{4}$/);
    const request = (await device.pending())!;
    expect(request).toMatchObject({ interaction: 'verification_code_choice', confirmationMessage: null });
    expect(request.verificationCodeChoices).toContain(started.verificationCode);
    const refused = await device.confirm(request).then(() => undefined, (e: { code?: string }) => e.code);
    expect(refused).toBe('auth_wrong_verification_code');
    expect(await authenticator.poll(started.attemptId)).toEqual({ status: 'failed' });
  });

  it('SMS fallback: offered only where the low level is acceptable, and approves at low with amr sms', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    expect(await authenticator.start({ loginHint: citizen.phone, acrValues: ['urn:tasdiq:acr:substantial'], client, method: 'sms_otp', origin: 'id.tasdiq.uz' })).toEqual({ status: 'refused', reason: 'unavailable' });
    const started = await authenticator.start({ loginHint: citizen.phone, acrValues: ['urn:tasdiq:acr:low'], client, method: 'sms_otp', origin: 'id.tasdiq.uz' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    const message = await app.context.db.selectFrom('notify_outbox').select(['params', 'recipient', 'kind']).where('correlation_id', '=', started.attemptId).executeTakeFirstOrThrow();
    expect(message).toMatchObject({ kind: 'auth.sms_otp', recipient: citizen.phone });
    let code = (JSON.parse(message.params) as { code?: string }).code;
    if (!code) {
      // Already delivered by the notify worker: the development inbox shows what the phone got.
      await expect
        .poll(async () => {
          const inbox = (await (await fetch(`${app.url}/api/v1/dev/messages?recipient=${encodeURIComponent(citizen.phone)}`)).json()) as { items: Array<{ kind: string; text: string }> };
          code = /#(\d{6})$/.exec(inbox.items.find((m) => m.kind === 'auth.sms_otp')?.text ?? '')?.[1];
          return code;
        }, { timeout: 10_000 })
        .toMatch(/^\d{6}$/);
    }
    expect(await authenticator.verifySmsCode!(started.attemptId, '12x')).toEqual({ status: 'malformed' });
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await authenticator.verifySmsCode!(started.attemptId, wrong)).toEqual({ status: 'wrong', attemptsLeft: 2 });
    expect(await authenticator.poll(started.attemptId)).toEqual({ status: 'pending' });
    expect(await authenticator.verifySmsCode!(started.attemptId, code!)).toEqual({ status: 'accepted' });
    expect(await authenticator.poll(started.attemptId)).toMatchObject({ status: 'approved', citizenId: citizen.citizenId, acr: 'urn:tasdiq:acr:low', amr: ['sms', 'otp'] });
    expect(await authenticator.verifySmsCode!(started.attemptId, code!)).toEqual({ status: 'failed' });

    // An app sign-in tells the page whether it may offer SMS instead.
    const activated = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await activated.activationCode());
    const app1 = await authenticator.start({ loginHint: activated.pinfl, acrValues: ['urn:tasdiq:acr:low', 'urn:tasdiq:acr:substantial'], client });
    expect(app1).toMatchObject({ status: 'pending', smsFallback: true });
    await device.refuse((await device.pending())!);
  });

  it('device link: no login hint, the page shows the rotating QR, the app links and confirms', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await activateHardwareDevice(app.url, await citizen.activationCode());
    const started = await authenticator.start({ loginHint: '', acrValues: ['urn:tasdiq:acr:substantial'], client, method: 'device_link' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    const qr = await authenticator.deviceLinkQr!(started.attemptId);
    expect(qr?.qr).toMatch(/^tasdiq\.as_[A-Za-z0-9_-]{22}\.\d+\.[0-9a-f]{64}$/);
    const request = await device.link(qr!.qr);
    await device.confirm(request);
    expect(await authenticator.poll(started.attemptId)).toMatchObject({ status: 'approved', citizenId: citizen.citizenId, acr: 'urn:tasdiq:acr:high' });
    expect(await authenticator.deviceLinkQr!(started.attemptId)).toBeNull();
  });

  it('refuses an unknown or unactivated citizen, denies a refusal, and holds the result to the acr asked', async () => {
    const bare = await enrollCitizen(app.context.db, app.url, app.clock);
    expect(await authenticator.start({ loginHint: bare.phone, acrValues: [], client })).toEqual({ status: 'refused', reason: 'no_device' });
    expect(await authenticator.start({ loginHint: 'nonsense', acrValues: [], client })).toEqual({ status: 'refused', reason: 'unknown_citizen' });

    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await activateHardwareDevice(app.url, await citizen.activationCode());
    const first = await authenticator.start({ loginHint: citizen.phone, acrValues: [], client });
    // A second sign-in while one waits on the phone: said as such (not "too many attempts").
    expect(await authenticator.start({ loginHint: citizen.phone, acrValues: [], client })).toEqual({ status: 'refused', reason: 'already_pending' });
    if (first.status !== 'pending') throw new Error('not pending');
    await device.refuse((await device.pending())!);
    expect(await authenticator.poll(first.attemptId)).toEqual({ status: 'denied' });

    // an in-person enrollment with a hardware-backed device gives "high"; without the visit it is
    // "substantial", and a client that asks for more than the result is told it is insufficient
    // (never approved), however often it asks
    await app.context.db.updateTable('devices').set({ assurance: 'self_service' }).where('id', '=', device.deviceId).execute();
    const second = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:high'], client });
    if (second.status !== 'pending') throw new Error('not pending');
    await device.confirm((await device.pending())!, second.verificationCode);
    expect(await authenticator.poll(second.attemptId)).toEqual({ status: 'insufficient', acr: 'urn:tasdiq:acr:substantial' });
    expect(await authenticator.poll(second.attemptId)).toEqual({ status: 'insufficient', acr: 'urn:tasdiq:acr:substantial' });
    expect(await authenticator.poll('as_unknownunknownunknown')).toEqual({ status: 'failed' });
  });
});
