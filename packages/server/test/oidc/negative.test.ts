import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { SignJWT } from 'jose';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, enrolledCitizen, secondInstance, type Citizen, type OidcTestApp } from './support.ts';
import { authorizeWithPar, Browser, REDIRECT_URI, registerRp, signInWithPhone, spaced, verificationCodeOn, type TestRp } from './rp.ts';

function describeError(error: unknown): string {
  const e = error as { error?: string; error_description?: string; message?: string; code?: string; cause?: unknown };
  return JSON.stringify({ error: e.error, d: e.error_description, m: e.message, c: e.code, cause: e.cause instanceof Error ? e.cause.message : e.cause });
}

function oauthError(error: unknown): string | undefined {
  if (process.env.DEBUG_OIDC) console.log(describeError(error));
  return (error as { error?: string }).error ?? (error as { cause?: { error?: string } }).cause?.error;
}

describe.each(testDialects())('protocol refusals on %s', (dialect) => {
  let t: OidcTestApp;
  let rp: TestRp;
  let config: client.Configuration;
  let citizen: Citizen;
  beforeAll(async () => {
    t = await createOidcTestApp(dialect);
    rp = await registerRp(t);
    config = await rp.config();
    citizen = await enrolledCitizen(t);
  });
  afterAll(() => t.close());

  it('refuses a request without PKCE, and with the plain method', async () => {
    const without = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT_URI, scope: 'openid' }).catch((e: unknown) => e);
    expect(oauthError(without)).toBe('invalid_request');
    const plain = await client
      .buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })
      .catch((e: unknown) => e);
    expect(oauthError(plain)).toBe('invalid_request');
  });

  it('refuses redirect URIs that are not registered exactly', async () => {
    const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
    for (const redirect of ['https://rp.example.uz/cb/', 'https://rp.example.uz/cb?x=1', 'https://evil.example/cb', 'https://rp.example.uz.evil.example/cb']) {
      const refused = await client
        .buildAuthorizationUrlWithPAR(config, { redirect_uri: redirect, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' })
        .catch((e: unknown) => e);
      expect(oauthError(refused), redirect).toBe('invalid_request');
      expect((refused as { error_description?: string }).error_description).toMatch(/redirect_uri did not match/);
    }
  });

  it('refuses a wrong PKCE verifier and a replayed code (revoking what the code gave)', async () => {
    const { callback } = await authorizeWithPar(t, config, citizen);
    const wrong = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier() }).catch((e: unknown) => e);
    expect(oauthError(wrong)).toBe('invalid_grant');

    const second = await authorizeWithPar(t, config, citizen);
    const tokens = await client.authorizationCodeGrant(config, second.callback, { pkceCodeVerifier: second.verifier });
    const replay = await client.authorizationCodeGrant(config, second.callback, { pkceCodeVerifier: second.verifier }).catch((e: unknown) => e);
    expect(oauthError(replay)).toBe('invalid_grant');
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  });

  it('refuses client assertions for another audience, expired ones, and unknown or disabled clients', async () => {
    const wrongAudience = await rp.config({ aud: 'https://someone-else.example' }).then((c) =>
      client.buildAuthorizationUrlWithPAR(c, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }),
    ).catch((e: unknown) => e);
    expect(oauthError(wrongAudience)).toBe('invalid_client');

    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(rp.clientId)
      .setSubject(rp.clientId)
      .setAudience(t.baseUrl)
      .setJti(crypto.randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(rp.privateKey);
    const response = await fetch(`${t.baseUrl}/oidc/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: rp.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: expired,
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');

    const other = await registerRp(t);
    await t.oidc.registry.setStatus(other.clientId, 'disabled');
    const disabled = await other.config().then((c) =>
      client.buildAuthorizationUrlWithPAR(c, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }),
    ).catch((e: unknown) => e);
    expect(oauthError(disabled)).toBe('invalid_client');
  });

  it('accepts signed request objects and refuses expired or unsigned ones', async () => {
    const now = Math.floor(Date.now() / 1000);
    const requestObject = (claims: Record<string, unknown>, exp: number) =>
      new SignJWT({
        client_id: rp.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'oauth-authz-req+jwt' })
        .setIssuer(rp.clientId)
        .setAudience(t.baseUrl)
        .setIssuedAt(now - 10)
        .setNotBefore(now - 10)
        .setExpirationTime(exp)
        .setJti(crypto.randomUUID())
        .sign(rp.privateKey);
    const accepted = await client.buildAuthorizationUrlWithPAR(config, { request: await requestObject({}, now + 60) });
    expect(accepted.searchParams.get('request_uri')).toBeTruthy();
    const expired = await client.buildAuthorizationUrlWithPAR(config, { request: await requestObject({}, now - 5) }).catch((e: unknown) => e);
    expect(oauthError(expired)).toBe('invalid_request_object');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ client_id: rp.clientId })).toString('base64url')}.`;
    const refused = await client.buildAuthorizationUrlWithPAR(config, { request: unsigned }).catch((e: unknown) => e);
    expect(oauthError(refused)).toBe('invalid_request_object');
  });

  it('never serves a lower assurance level than asked: acr downgrade ends in an error, not a code', async () => {
    // Enrolled without an in-person visit: the phone proves substantial, never high.
    const remote = await enrolledCitizen(t, { assurance: 'self_service' });
    const askHigh = async (browser: Browser) => {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        acr_values: 'urn:tasdiq:acr:high',
      });
      const entry = await browser.follow(await browser.get(url), t.baseUrl);
      const path = new URL(entry.url).pathname;
      const started = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, t.baseUrl), { hint: spaced(remote.phone) }), t.baseUrl);
      const shown = verificationCodeOn(await started.text());
      // The citizen confirms on the phone: the phone's key proves substantial only.
      const request = (await remote.device.pending())!;
      expect(request.verificationCodeChoices).toContain(shown);
      await remote.device.confirm(request, shown);
      return path;
    };

    const backToService = async (browser: Browser, response: Response): Promise<URL> => {
      expect(response.status).toBe(303);
      const last = await browser.follow(await browser.get(new URL(response.headers.get('location')!, t.baseUrl)), t.baseUrl);
      const callback = new URL(last.headers.get('location')!);
      expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
      return callback;
    };

    // As the page's script goes: /status until the phone has answered, then on. The attempt is
    // reported insufficient; the provider refuses the result and the service gets the error.
    const browser = new Browser();
    const path = await askHigh(browser);
    expect((await (await browser.get(new URL(`${path}/status`, t.baseUrl))).json()) as unknown).toEqual({ status: 'insufficient' });
    const refused = await backToService(browser, await browser.get(new URL(`${path}/complete`, t.baseUrl)));
    expect(refused.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(refused.searchParams.get('code')).toBeNull();

    // "Check now" pressed at once, without the status check: the same answer, no code either.
    const impatient = new Browser();
    const impatientPath = await askHigh(impatient);
    const direct = await backToService(impatient, await impatient.get(new URL(`${impatientPath}/complete?lang=en`, t.baseUrl)));
    expect(direct.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(direct.searchParams.get('code')).toBeNull();

    // Behind a load balancer the browser may finish on another instance, where the device
    // authentication knows only the result (substantial): the provider's own check refuses it.
    const other = await secondInstance(t);
    try {
      const elsewhere = new Browser();
      const otherPath = await askHigh(elsewhere);
      const callback = await backToService(elsewhere, await elsewhere.get(new URL(`${otherPath}/complete`, other.url)));
      expect(callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
      expect(callback.searchParams.get('code')).toBeNull();
    } finally {
      await other.close();
    }
    // Each time the phone did confirm; only the level was short.
    const sessions = await t.app.context.db.selectFrom('auth_sessions').select(['result', 'assurance']).where('citizen_id', '=', remote.citizenId).execute();
    expect(sessions).toEqual(Array.from({ length: 3 }, () => ({ result: 'OK', assurance: 'substantial' })));

    // The same request met at the level asked (an in-person enrollment) gives a code whose ID token says so.
    const met = await authorizeWithPar(t, config, citizen, { params: { acr_values: 'urn:tasdiq:acr:high' } });
    const tokens = await client.authorizationCodeGrant(config, met.callback, { pkceCodeVerifier: met.verifier });
    expect(tokens.claims()?.acr).toBe('urn:tasdiq:acr:high');
  });

  it('never serves an SMS sign-in (low) to a service asking substantial', async () => {
    const lenient = await registerRp(t, { acr_values: ['urn:tasdiq:acr:low', 'urn:tasdiq:acr:substantial'] });
    const lenientConfig = await lenient.config();
    const url = await client.buildAuthorizationUrlWithPAR(lenientConfig, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      acr_values: 'urn:tasdiq:acr:substantial',
    });
    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), t.baseUrl);
    const html = await entry.text();
    expect(html).toContain('value="app"');
    expect(html).not.toContain('value="sms_otp"');
    // A hand-made SMS start is refused with the form; no code is sent, no session started.
    const path = new URL(entry.url).pathname;
    const forged = await browser.post(new URL(`${path}/start?lang=en`, t.baseUrl), { hint: citizen.phone, method: 'sms_otp' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('aria-invalid="true"');
    const sms = await t.app.context.db.selectFrom('auth_sessions').select('id').where('citizen_id', '=', citizen.citizenId).where('mode', '=', 'sms_otp').execute();
    expect(sms).toEqual([]);
  });

  it('signs nobody in who says no: refused on the phone, or consent declined', async () => {
    const refusing = await enrolledCitizen(t);
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid pinfl',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), t.baseUrl);
    const path = new URL(entry.url).pathname;
    await browser.follow(await browser.post(new URL(`${path}/start`, t.baseUrl), { hint: refusing.pinfl }), t.baseUrl);
    expect(await refusing.device.refuse((await refusing.device.pending())!)).toMatchObject({ result: 'USER_REFUSED' });
    expect((await (await browser.get(new URL(`${path}/status`, t.baseUrl))).json()) as unknown).toEqual({ status: 'denied' });
    const page = await browser.get(new URL(`${path}/complete?lang=en`, t.baseUrl));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('The sign-in was not confirmed. Please start again.');
    const cancelled = await browser.follow(await browser.post(new URL(`${path}/abort`, t.baseUrl), {}), t.baseUrl);
    const refusal = new URL(cancelled.headers.get('location')!);
    expect(refusal.searchParams.get('error')).toBe('access_denied');
    expect(refusal.searchParams.get('code')).toBeNull();

    // Confirmed on the phone, then "deny" on the consent page: an error for the service, no consent kept.
    const declined = await authorizeWithPar(t, config, refusing, { params: { scope: 'openid pinfl' }, signIn: { consent: 'deny' } });
    expect(declined.callback.searchParams.get('error')).toBe('access_denied');
    expect(declined.callback.searchParams.get('code')).toBeNull();
    expect(await t.oidc.consents.find(refusing.citizenId, rp.clientId)).toBeUndefined();
  });

  it('refuses acr values the client is not registered for', async () => {
    const browser = new Browser();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      acr_values: 'urn:tasdiq:acr:low',
    });
    const page = await browser.follow(await browser.get(url), t.baseUrl);
    expect(page.status).toBe(303);
    const location = new URL(page.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('holds a FAPI 2.0 client to PAR and DPoP-bound tokens', async () => {
    const fapi = await registerRp(t, { fapi: true });
    const fapiConfig = await fapi.config();
    const direct = client.buildAuthorizationUrl(fapiConfig, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await new Browser().get(direct);
    const location = new URL(response.headers.get('location') ?? 'https://x', t.baseUrl);
    expect(response.status === 400 || location.searchParams.get('error') === 'invalid_request').toBe(true);

    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(fapiConfig, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await signInWithPhone(t, new Browser(), url, citizen);
    const bearer = await client.authorizationCodeGrant(fapiConfig, callback, { pkceCodeVerifier: verifier }).catch((e: unknown) => e);
    expect(oauthError(bearer)).toBe('invalid_grant');

    const dpop = client.getDPoPHandle(fapiConfig, await client.randomDPoPKeyPair('ES256'));
    const boundVerifier = client.randomPKCECodeVerifier();
    const boundUrl = await client.buildAuthorizationUrlWithPAR(
      fapiConfig,
      { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(boundVerifier), code_challenge_method: 'S256' },
      { DPoP: dpop },
    );
    const boundCallback = await signInWithPhone(t, new Browser(), boundUrl, citizen);
    const tokens = await client.authorizationCodeGrant(fapiConfig, boundCallback, { pkceCodeVerifier: boundVerifier }, undefined, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });

  it('answers a sign-in page that does not exist with a problem, and bad input on the form with the form again', async () => {
    const missing = await fetch(`${t.baseUrl}/signin/AAAAAAAAAAAAAAAAAAAAA`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe('signin_not_found');

    const browser = new Browser();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(await browser.get(url), t.baseUrl);
    const path = new URL(page.url).pathname;
    const bad = await browser.post(new URL(`${path}/start?lang=ru`, t.baseUrl), { hint: '12345' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('Введите номер телефона или 14-значный ПИНФЛ');
    expect(html).toContain('aria-invalid="true"');
    const extra = await browser.post(new URL(`${path}/start`, t.baseUrl), { hint: '+998901234567', admin: '1' });
    expect(extra.status).toBe(400);

    // One sign-in cannot be used to hammer the phone step: 20 tries a minute, then a problem.
    let last: Response | undefined;
    for (let i = 0; i < 20; i++) last = await browser.post(new URL(`${path}/start`, t.baseUrl), { hint: 'x' });
    expect(last!.status).toBe(429);
    expect(((await last!.json()) as { code: string }).code).toBe('rate_limited');
  });
});
