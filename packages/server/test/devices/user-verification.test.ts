import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, toBase64Url, userVerificationChallenge, type PendingRequest } from '../../../client/src/index.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import type { Authenticator } from '../../src/oidc/authenticator.ts';
import { webauthnParty } from '../../src/platform/webauthn.ts';
import { testDialects } from '../support/databases.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { enrollCitizen, listeningApp, type EnrolledCitizen, type ListeningApp } from './fixtures.ts';
import { rejection } from '../support/rejection.ts';

const client = { clientId: 'portal', name: { 'uz-Latn': 'Portal', 'uz-Cyrl': 'Портал', ru: 'Портал', en: 'Portal' } };

describe.each(testDialects())('PIN or biometrics checked by the server (passkey user verification) on %s', (dialect) => {
  let app: ListeningApp;
  let authenticator: Authenticator;
  let origin: string;
  beforeAll(async () => {
    app = await listeningApp(dialect);
    authenticator = createDeviceAuthenticator(authModule.service(app.context), app.context.db);
    origin = webauthnParty(app.context.config.publicUrl).origin;
  });
  afterAll(async () => app.close());

  /** navigator.credentials.create as the browser app calls it, on the phone's authenticator. */
  const registration = (phone: SoftAuthenticator, overrides: Parameters<SoftAuthenticator['create']>[1] = {}) => async (challenge: Uint8Array) =>
    phone.create({ challenge: toBase64Url(challenge), rp: { name: 'Tasdiq' }, user: { id: toBase64Url(crypto.getRandomValues(new Uint8Array(16))), name: 'Tasdiq', displayName: 'Tasdiq Mobile-ID' } }, overrides);

  /** navigator.credentials.get over a request, as the browser app calls it before confirming. */
  const assertion = async (phone: SoftAuthenticator, request: PendingRequest, overrides: Parameters<SoftAuthenticator['get']>[1] = {}) =>
    phone.get({ challenge: toBase64Url(await userVerificationChallenge(request.signingInput)) }, overrides);

  async function activatedWithPasskey(): Promise<{ citizen: EnrolledCitizen; device: DeviceClient; phone: SoftAuthenticator }> {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const phone = new SoftAuthenticator(origin);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { userVerification: registration(phone) });
    return { citizen, device, phone };
  }

  async function pendingSignIn(citizen: EnrolledCitizen, device: DeviceClient) {
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:substantial'], client, bindingMessage: 'Kirish' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    return { started, request: (await device.pending())! };
  }

  const sessionRow = (id: string) => app.context.db.selectFrom('auth_sessions').select(['state', 'result']).where('id', '=', id).executeTakeFirstOrThrow();

  it('a device activated with a passkey confirms only with its assertion over the request', async () => {
    const { citizen, device, phone } = await activatedWithPasskey();
    expect(await device.me()).toMatchObject({ userVerification: 'passkey', keyStorage: 'software' });
    const audit = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'device.activated').where('actor_id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details!)).toMatchObject({ userVerification: 'passkey' });

    const { started, request } = await pendingSignIn(citizen, device);
    const missing = await rejection(device.confirm(request, undefined));
    expect(missing).toMatchObject({ status: 400, code: 'device_user_verification_required' });
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'pending', result: null });
    await device.confirm(request, undefined, { userVerification: await assertion(phone, request) });
    expect(await authenticator.poll(started.attemptId)).toMatchObject({ status: 'approved' });
  });

  it('refuses an assertion without user verification, over another request, tampered, from another passkey or origin, and the request stays pending', async () => {
    const { citizen, device, phone } = await activatedWithPasskey();
    const { started, request } = await pendingSignIn(citizen, device);
    const other = new SoftAuthenticator(origin);
    other.create({ challenge: 'x', rp: { name: 'Tasdiq' }, user: { id: 'AAAA', name: 'x', displayName: 'x' } });
    const otherRequest = { ...request, signingInput: `${request.signingInput}.other` };
    const bad: [string, () => Promise<object>, RegExp | undefined][] = [
      ['presence only', () => assertion(phone, request, { userVerified: false }), /user could not be verified/i],
      ['another request', () => assertion(phone, otherRequest), /challenge/i],
      ['a tampered signature', () => assertion(phone, request, { tamper: true }), undefined],
      ['another passkey', () => assertion(other, request), /not made with the passkey registered at activation/],
      ['a phishing origin', () => assertion(phone, request, { origin: 'https://tasdiq.example.org' }), /origin/i],
    ];
    for (const [what, make, detail] of bad) {
      const error = await rejection(device.confirm(request, undefined, { userVerification: await make() }));
      expect({ what, code: error.code }).toEqual({ what, code: 'device_user_verification_invalid' });
      if (detail) expect(error.detail).toMatch(detail);
    }
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'pending', result: null });
    await device.confirm(request, undefined, { userVerification: await assertion(phone, request) });
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'complete', result: 'OK' });
  });

  it('a code pick without the citizen neither ends the request nor counts as a wrong pick', async () => {
    const { citizen, device, phone } = await activatedWithPasskey();
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:substantial'], client, bindingMessage: 'Kirish' });
    if (started.status !== 'pending') throw new Error('not pending');
    const request = (await device.pending())!;
    // The app picks among three codes only for a code-choice sign-in; a wrong one ends it.
    const wrong = request.verificationCodeChoices?.find((c) => c !== started.verificationCode) ?? '0000';
    expect((await rejection(device.confirm(request, wrong))).code).toBe('device_user_verification_required');
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'pending', result: null });
    await device.confirm(request, request.verificationCodeChoices ? started.verificationCode : undefined, { userVerification: await assertion(phone, request) });
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'complete', result: 'OK' });
  });

  it('refuses at activation a passkey made for other keys, without user verification or from another origin; nothing is written and the code still works', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const phone = new SoftAuthenticator(origin);
    const cases: [string, (challenge: Uint8Array) => Promise<object>][] = [
      ['other keys', () => registration(phone)(crypto.getRandomValues(new Uint8Array(32)))],
      ['presence only', registration(phone, { userVerified: false })],
      ['a phishing origin', registration(phone, { origin: 'https://tasdiq.example.org' })],
    ];
    for (const [what, userVerification] of cases) {
      const error = await rejection(DeviceClient.activate(app.url, code, { userVerification, locale: 'ru' }));
      expect({ what, status: error.status, code: error.code, title: error.title }).toEqual({ what, status: 400, code: 'device_user_verification_invalid', title: 'Ключ проверки PIN-кода или биометрии не прошёл проверку' });
    }
    expect(await app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    const device = await DeviceClient.activate(app.url, code, { userVerification: registration(phone) });
    expect(await device.me()).toMatchObject({ userVerification: 'passkey' });
  });

  it('a device without a passkey (a native app, whose key store checks the citizen) confirms as before', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    expect(await device.me()).toMatchObject({ userVerification: 'app' });
    const { started, request } = await pendingSignIn(citizen, device);
    await device.confirm(request);
    expect(await sessionRow(started.attemptId)).toEqual({ state: 'complete', result: 'OK' });
  });
});
