import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { authorization, Browser, citizenWithApp, codeOn, complete, confirmOnPhone, open, REDIRECT_URI, registerRp, signInWithApp, startOnPage, startService, type Citizen, type Rp, type Service } from './journey.ts';

const oauthError = (error: unknown) => (error as { error?: string }).error;

/** What the token, introspection and revocation endpoints refuse, with real sign-ins behind each code and token. */
describe.each(testDialects())('token endpoint and token ownership, refused, on %s', (dialect) => {
  let service: Service;
  let rp: Rp;
  let other: Rp;
  let citizen: Citizen;
  beforeAll(async () => {
    service = await startService(dialect);
    rp = await registerRp(service, 'owner-rp', ['openid', 'offline_access'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    other = await registerRp(service, 'other-rp', ['openid', 'offline_access'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    citizen = await citizenWithApp(service);
  });
  afterAll(async () => service.close());

  /** A fresh code for the owner: the callback URL and the PKCE verifier. */
  async function code(): Promise<{ callback: URL; verifier: string }> {
    const browser = new Browser();
    const { url, verifier } = await authorization(rp);
    const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    await confirmOnPhone(citizen, codeOn(await page.text()));
    const { redirect } = await complete(service, browser, path);
    return { callback: redirect, verifier };
  }

  it('a code redeemed with another redirect_uri, without its code_verifier or with a wrong one is invalid_grant', async () => {
    const tampered = await code();
    const elsewhere = new URL(`https://rp.example.uz/elsewhere${tampered.callback.search}`);
    expect(oauthError(await client.authorizationCodeGrant(rp.config, elsewhere, { pkceCodeVerifier: tampered.verifier }).catch((e: unknown) => e))).toBe('invalid_grant');

    const missing = await code();
    const noVerifier = await client
      .genericGrantRequest(rp.config, 'authorization_code', { code: missing.callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI })
      .catch((e: unknown) => e);
    expect(oauthError(noVerifier)).toBe('invalid_grant');

    const wrong = await code();
    const wrongVerifier = await client.authorizationCodeGrant(rp.config, wrong.callback, { pkceCodeVerifier: client.randomPKCECodeVerifier() }).catch((e: unknown) => e);
    expect(oauthError(wrongVerifier)).toBe('invalid_grant');

    // Another client cannot redeem the owner's code, even with its verifier.
    const stolen = await code();
    const byOther = await client
      .genericGrantRequest(other.config, 'authorization_code', { code: stolen.callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: stolen.verifier })
      .catch((e: unknown) => e);
    expect(oauthError(byOther)).toBe('invalid_grant');
  });

  it('another client can neither introspect nor revoke the owner’s tokens, nor use its refresh token', async () => {
    const { tokens } = await signInWithApp(service, rp, citizen, { params: { scope: 'openid offline_access', prompt: 'consent' } });
    expect(tokens.refresh_token).toBeTruthy();

    expect((await client.tokenIntrospection(other.config, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(other.config, tokens.refresh_token!)).active).toBe(false);
    const revoked = await client.tokenRevocation(other.config, tokens.access_token).catch((e: unknown) => e);
    expect(oauthError(revoked)).toBe('invalid_request');
    const revokedRefresh = await client.tokenRevocation(other.config, tokens.refresh_token!).catch((e: unknown) => e);
    expect(oauthError(revokedRefresh)).toBe('invalid_request');
    expect(oauthError(await client.refreshTokenGrant(other.config, tokens.refresh_token!).catch((e: unknown) => e))).toBe('invalid_grant');

    // Still the owner's, and still live.
    expect((await client.tokenIntrospection(rp.config, tokens.access_token)).active).toBe(true);
    expect((await client.tokenIntrospection(rp.config, tokens.refresh_token!)).active).toBe(true);
    await client.tokenRevocation(rp.config, tokens.access_token);
    expect((await client.tokenIntrospection(rp.config, tokens.access_token)).active).toBe(false);
  });
});
