import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, type OidcTestApp } from './support.ts';
import { Browser, REDIRECT_URI, registerRp, signIn, type TestRp } from './rp.ts';

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
    const browser = new Browser();
    const callback = await signIn(t, browser, url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(t.authenticator.started.at(-1)).toMatchObject({ loginHint: '+998901234567', acrValues: ['urn:tasdiq:acr:substantial'] });

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, undefined, {
      DPoP: dpop,
    });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('urn:tasdiq:acr:substantial');
    expect(claims.amr).toEqual(['hwk', 'pin']);
    expect(claims.sub).not.toContain('cit_');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
    expect(userinfo).toMatchObject({ pinfl: '31234567890123', given_name: 'Dilnoza', 'family_name#uz-Cyrl': 'Каримова', phone_number: '+998901234567' });
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
    const browser = new Browser();
    const run = async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid pinfl',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      let page = await browser.follow(await browser.get(url), t.baseUrl);
      const path = new URL(page.url).pathname;
      await browser.post(new URL(`${path}/start`, t.baseUrl), { hint: '31234567890123' });
      t.authenticator.answerLatest({ status: 'approved', citizenId: 'cit_demo_0001', acr: 'urn:tasdiq:acr:substantial', amr: ['hwk'], authTime: Date.now() });
      page = await browser.follow(await browser.get(new URL(`${path}/complete`, t.baseUrl)), t.baseUrl);
      return page;
    };
    const first = await run();
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('value="allow"');
    await browser.follow(await browser.post(new URL(`${new URL(first.url).pathname}/consent`, t.baseUrl), { decision: 'allow' }), t.baseUrl);
    expect(await t.oidc.consents.find('cit_demo_0001', rp.clientId)).toMatchObject({ scopes: ['openid', 'pinfl'] });

    const fresh = new Browser();
    const again = await (async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid pinfl',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      let page = await fresh.follow(await fresh.get(url), t.baseUrl);
      const path = new URL(page.url).pathname;
      await fresh.post(new URL(`${path}/start`, t.baseUrl), { hint: '31234567890123' });
      t.authenticator.answerLatest({ status: 'approved', citizenId: 'cit_demo_0001', acr: 'urn:tasdiq:acr:substantial', amr: ['hwk'], authTime: Date.now() });
      page = await fresh.follow(await fresh.get(new URL(`${path}/complete`, t.baseUrl)), t.baseUrl);
      return page;
    })();
    // A new browser session, no consent page: straight back to the service with a code.
    expect(again.status).toBe(303);
    expect(new URL(again.headers.get('location')!).searchParams.get('code')).toBeTruthy();

    expect(await t.oidc.consents.withdraw('cit_demo_0001', rp.clientId, Date.now())).toBe(true);
    expect(await t.oidc.consents.find('cit_demo_0001', rp.clientId)).toBeUndefined();
  });
});
