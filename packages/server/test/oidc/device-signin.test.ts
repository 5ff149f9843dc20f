import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { DeviceClient } from '../../../client/src/index.ts';
import type { TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen } from '../devices/enroll.ts';
import { hardwareKeyStore } from '../support/key-attestation.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import { Browser, REDIRECT_URI } from './rp.ts';
import { createOidcTestApp, type OidcTestApp } from './support.ts';
import { exportJWK, generateKeyPair } from 'jose';

/**
 * The service as deployed (the default OpenID module: device sessions of the auth module,
 * claims from the identity tables), a phone from packages/client (its keys attested by the test
 * key store, as a native Android app's are), and openid-client.
 */
describe.each(testDialects())('sign-in with a phone, end to end, on %s', (dialect) => {
  let service: OidcTestApp;
  let app: TestApp;
  let baseUrl: string;
  beforeAll(async () => {
    service = await createOidcTestApp(dialect);
    ({ app, baseUrl } = service);
  });
  afterAll(() => service.close());

  it('signs a citizen in: phone number on the page, code matched and confirmed on the phone, claims from the registry', async () => {
    const citizen = await enrollCitizen(app.context.db, baseUrl);
    // A native app: its keys attested as hardware-backed by the test key store.
    const phone = await DeviceClient.activate(baseUrl, await citizen.activationCode(), { keyAttestation: await hardwareKeyStore() });

    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await new ClientRegistry(app.context.db).register({
      client_id: 'soliq-e2e',
      name: { 'uz-Latn': 'Soliq', 'uz-Cyrl': 'Солиқ', ru: 'Налоги', en: 'Tax' },
      redirect_uris: [REDIRECT_URI],
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
      scopes: ['openid', 'profile', 'pinfl', 'phone'],
      acr_values: ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'],
      contacts: ['it@soliq.example.uz'],
    });
    const config = await client.discovery(new URL(baseUrl), 'soliq-e2e', undefined, client.PrivateKeyJwt(privateKey), {
      execute: [client.allowInsecureRequests],
    });
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(
      config,
      {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile pinfl phone',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        acr_values: 'urn:tasdiq:acr:high',
      },
      { DPoP: dpop },
    );

    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), baseUrl);
    const path = new URL(entry.url).pathname;
    const started = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, baseUrl), { hint: citizen.phone }), baseUrl);
    const page = await started.text();
    const shown = /<p class="code"[^>]*>([^<]+)<\/p>/.exec(page)?.[1];
    expect(shown).toBeTruthy();
    expect((await (await browser.get(new URL(`${path}/status`, baseUrl))).json()) as unknown).toEqual({ status: 'pending' });

    const request = (await phone.pending())!;
    // The phone speaks the page's language (English here) and names the service in it.
    expect(request.service).toBe('Tax');
    expect(request.verificationCodeChoices).toContain(shown);
    await phone.confirm(request, shown);
    expect((await (await browser.get(new URL(`${path}/status`, baseUrl))).json()) as unknown).toEqual({ status: 'approved' });

    const consent = await browser.follow(await browser.get(new URL(`${path}/complete?lang=en`, baseUrl)), baseUrl);
    expect(consent.status).toBe(200);
    const consentPage = await consent.text();
    expect(consentPage).toContain('PINFL (personal identification number)');
    const callback = await browser.follow(await browser.post(new URL(`${new URL(consent.url).pathname}/consent`, baseUrl), { decision: 'allow' }), baseUrl);
    const redirect = new URL(callback.headers.get('location')!);

    const tokens = await client.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: verifier }, undefined, { DPoP: dpop });
    const claims = tokens.claims()!;
    // Enrolled in person with a hardware-backed device: high, and amr says hwk (as recorded, never claimed).
    expect(claims).toMatchObject({ acr: 'urn:tasdiq:acr:high', amr: ['user', 'mfa', 'hwk'] });
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
    expect(userinfo).toMatchObject({
      pinfl: citizen.pinfl,
      given_name: 'Fuqaro',
      'given_name#uz-Cyrl': 'Фуқаро',
      phone_number: citizen.phone,
      phone_number_verified: true,
    });

    // In the Tasdiq app the citizen sees the consent and withdraws it: the tokens stop working.
    const listed = await phone.request<{ items: { clientId: string; name: string; scopes: string[] }[] }>('GET', '/api/v1/device/consents');
    expect(listed.items).toEqual([expect.objectContaining({ clientId: 'soliq-e2e', scopes: ['openid', 'phone', 'pinfl', 'profile'] })]);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    const withdraw = async () => {
      const path = '/api/v1/device/consents/soliq-e2e';
      return fetch(`${baseUrl}${path}`, { method: 'DELETE', headers: await phone.signRequest('DELETE', path, '') });
    };
    expect((await withdraw()).status).toBe(204);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await phone.request<{ items: unknown[] }>('GET', '/api/v1/device/consents')).items).toEqual([]);
    const again = await withdraw();
    expect(again.status).toBe(404);
    expect(((await again.json()) as { code: string }).code).toBe('consent_not_found');
    const audit = await app.context.db.selectFrom('audit_events').select(['action', 'actor_id']).where('action', '=', 'oidc.consent_withdrawn').execute();
    expect(audit).toEqual([{ action: 'oidc.consent_withdrawn', actor_id: citizen.citizenId }]);
    const unsigned = await fetch(`${baseUrl}/api/v1/device/consents`);
    expect(unsigned.status).toBe(401);
  });
});
