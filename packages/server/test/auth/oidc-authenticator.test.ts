import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient } from '../../../client/src/index.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import type { Authenticator } from '../../src/oidc/authenticator.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';

const client = { clientId: 'portal', name: { 'uz-Latn': 'Portal', 'uz-Cyrl': 'Портал', ru: 'Портал', en: 'Portal' } };

describe('the OpenID provider seam served by device sessions', () => {
  let app: ListeningApp;
  let authenticator: Authenticator;
  beforeAll(async () => {
    app = await listeningApp('sqlite');
    authenticator = createDeviceAuthenticator(authModule.service(app.context));
  });
  afterAll(async () => app.close());

  it('starts on the login hint, is pending until the phone confirms, then approves with acr and amr', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:substantial'], client, bindingMessage: 'Kirish 42' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    expect(await authenticator.poll(started.attemptId)).toEqual({ status: 'pending' });
    const request = (await device.pending())!;
    expect(request).toMatchObject({ service: 'Portal', reason: 'Kirish 42' });
    await device.confirm(request, started.verificationCode);
    const result = await authenticator.poll(started.attemptId);
    expect(result).toMatchObject({ status: 'approved', citizenId: citizen.citizenId, acr: 'urn:tasdiq:acr:high', amr: ['hwk', 'user', 'mfa'] });
  });

  it('refuses an unknown or unactivated citizen, denies a refusal, and holds the result to the acr asked', async () => {
    const bare = await enrollCitizen(app.context.db, app.url, app.clock);
    expect(await authenticator.start({ loginHint: bare.phone, acrValues: [], client })).toEqual({ status: 'refused', reason: 'no_device' });
    expect(await authenticator.start({ loginHint: 'nonsense', acrValues: [], client })).toEqual({ status: 'refused', reason: 'unknown_citizen' });

    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    const first = await authenticator.start({ loginHint: citizen.phone, acrValues: [], client });
    expect(await authenticator.start({ loginHint: citizen.phone, acrValues: [], client })).toEqual({ status: 'refused', reason: 'rate_limited' });
    if (first.status !== 'pending') throw new Error('not pending');
    await device.refuse((await device.pending())!);
    expect(await authenticator.poll(first.attemptId)).toEqual({ status: 'denied' });

    // an in-person enrollment gives "high"; a client that asks for more than the result gets "failed"
    await app.context.db.updateTable('devices').set({ assurance: 'self_service' }).where('id', '=', device.deviceId).execute();
    const second = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:high'], client });
    if (second.status !== 'pending') throw new Error('not pending');
    await device.confirm((await device.pending())!, second.verificationCode);
    expect(await authenticator.poll(second.attemptId)).toEqual({ status: 'failed' });
    expect(await authenticator.poll('as_unknownunknownunknown')).toEqual({ status: 'failed' });
  });
});
