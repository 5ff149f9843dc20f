import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, enrolledCitizen, type OidcTestApp } from './support.ts';
import { Browser, REDIRECT_URI, registerRp, signInWithPhone, verificationCodeOn, type TestRp } from './rp.ts';

describe.each(testDialects())('authorization code flow with openid-client on %s', (dialect) => {
  let t: OidcTestApp;
  let rp: TestRp;
  let config: client.Configuration;
  beforeAll(async () => {
    t = await createOidcTestApp(dialect);
    rp = await registerRp(t);
    config = await rp.config();
  });
  afterAll(() => t.close());

  it('publishes discovery and a JWKS of ES256 and EdDSA keys only', async () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(t.baseUrl);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.acr_values_supported).toEqual(['urn:tasdiq:acr:low', 'urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain('client_secret_basic');
    const jwks = (await (await fetch(metadata.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
  });

  it('signs a citizen in with PAR + PKCE + DPoP, then userinfo, introspection, refresh, revocation and logout', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const url = await client.buildAuthorizationUrlWithPAR(
      config,
      {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile pinfl phone offline_access',
        prompt: 'consent',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        acr_values: 'urn:tasdiq:acr:substantial',
      },
      { DPoP: dpop },
    );
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    // Enrolled without an in-person visit, keys not attested: the phone proves substantial, what the service asks.
    const citizen = await enrolledCitizen(t, { assurance: 'self_service', keyStorage: 'software' });
    const browser = new Browser();
    const callback = await signInWithPhone(t, browser, url, citizen);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    // The number typed with spaces named this citizen; the phone confirmed for this service.
    const sessions = await t.app.context.db
      .selectFrom('auth_sessions')
      .select(['citizen_id', 'client_id', 'service_name', 'mode', 'result', 'assurance'])
      .where('citizen_id', '=', citizen.citizenId)
      .execute();
    expect(sessions).toEqual([{ citizen_id: citizen.citizenId, client_id: rp.clientId, service_name: 'Sinov xizmati', mode: 'app', result: 'OK', assurance: 'substantial' }]);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, undefined, {
      DPoP: dpop,
    });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('urn:tasdiq:acr:substantial');
    // A PIN or biometric check on the phone and its key, not recorded as hardware-backed: swk.
    expect(claims.amr).toEqual(['user', 'mfa', 'swk']);
    expect(claims.sub).not.toContain('cit_');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
    expect(userinfo).toMatchObject({ pinfl: citizen.pinfl, given_name: 'Fuqaro', 'family_name#uz-Cyrl': 'Тест', phone_number: citizen.phone });
    expect(userinfo).not.toHaveProperty('birthdate');

    // The DPoP-bound token is useless without its key.
    const stolen = await fetch(config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(stolen.status).toBe(401);

    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, client_id: rp.clientId, sub: claims.sub });

    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.access_token).not.toBe(tokens.access_token);

    await client.tokenRevocation(config, refreshed.access_token);
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);

    const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://rp.example.uz/bye', state: 'bye' });
    const confirm = await browser.get(logout);
    expect(confirm.status).toBe(200);
    const form = await confirm.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1];
    expect(xsrf).toBeTruthy();
    const done = await browser.post(new URL('/oidc/logout/confirm', t.baseUrl), { xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('https://rp.example.uz/bye?state=bye');
  });

  it('asks for consent once, then remembers it until the citizen withdraws it', async () => {
    const rp = await registerRp(t);
    const config = await rp.config();
    const citizen = await enrolledCitizen(t);
    /** Signs in by PINFL in `browser`, confirmed on the phone; the page after the complete step. */
    const run = async (browser: Browser) => {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid pinfl',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const entry = await browser.follow(await browser.get(url), t.baseUrl);
      const path = new URL(entry.url).pathname;
      const started = await browser.follow(await browser.post(new URL(`${path}/start`, t.baseUrl), { hint: citizen.pinfl }), t.baseUrl);
      const shown = verificationCodeOn(await started.text());
      await citizen.device.confirm((await citizen.device.pending())!, shown);
      return browser.follow(await browser.get(new URL(`${path}/complete`, t.baseUrl)), t.baseUrl);
    };
    const browser = new Browser();
    const first = await run(browser);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('value="allow"');
    await browser.follow(await browser.post(new URL(`${new URL(first.url).pathname}/consent`, t.baseUrl), { decision: 'allow' }), t.baseUrl);
    expect(await t.oidc.consents.find(citizen.citizenId, rp.clientId)).toMatchObject({ scopes: ['openid', 'pinfl'] });

    // A new browser session, no consent page: straight back to the service with a code.
    const again = await run(new Browser());
    expect(again.status).toBe(303);
    expect(new URL(again.headers.get('location')!).searchParams.get('code')).toBeTruthy();

    expect(await t.oidc.consents.withdraw(citizen.citizenId, rp.clientId, Date.now())).toBe(true);
    expect(await t.oidc.consents.find(citizen.citizenId, rp.clientId)).toBeUndefined();
    // Withdrawn: the next sign-in asks again.
    const asked = await run(new Browser());
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('value="allow"');
  });
});
