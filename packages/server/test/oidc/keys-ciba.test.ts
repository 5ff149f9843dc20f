import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, enrolledCitizen, receiver, type Citizen, type OidcTestApp, type Receiver } from './support.ts';
import { codeFlowTokens, registerRp } from './rp.ts';
import { KEY_RETENTION_MS } from '../../src/oidc/provider.ts';
import { DEFAULT_POLICY } from '../../src/auth/index.ts';
import { isValidBindingMessage } from '../../src/oidc/binding-message.ts';

describe('binding_message check', () => {
  it('admits letters of every script, bounded, and nothing that could disguise the text', () => {
    expect(isValidBindingMessage('Нотариус: договор №12')).toBe(true);
    expect(isValidBindingMessage("Soliq qo'mitasi: ariza #7")).toBe(true);
    expect(isValidBindingMessage('Солиқ қўмитаси — ариза')).toBe(true);
    expect(isValidBindingMessage('a'.repeat(64))).toBe(true);
    expect(isValidBindingMessage('a'.repeat(65))).toBe(false);
    expect(isValidBindingMessage('')).toBe(false);
    expect(isValidBindingMessage('pay\u202Eevil')).toBe(false);
    expect(isValidBindingMessage('line\nbreak')).toBe(false);
    expect(isValidBindingMessage('<script>')).toBe(false);
  });
});

describe.each(testDialects())('keys and CIBA on %s', (dialect) => {
  let t: OidcTestApp;
  let citizen: Citizen;
  beforeAll(async () => {
    t = await createOidcTestApp(dialect);
    citizen = await enrolledCitizen(t);
  });
  afterAll(() => t.close());

  async function idToken(rp: Awaited<ReturnType<typeof registerRp>>): Promise<string> {
    const tokens = await codeFlowTokens(t, await rp.config(), citizen);
    return tokens.id_token!;
  }

  it('rotates signing keys, keeping old ones published until the tokens they signed have expired', async () => {
    const rp = await registerRp(t);
    const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/oidc/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 });
    const before = await idToken(rp);
    const oldKid = decodeProtectedHeader(before).kid!;

    await t.oidc.rotateKeys();
    const after = await idToken(rp);
    const newKid = decodeProtectedHeader(after).kid!;
    expect(newKid).not.toBe(oldKid);
    const published = ((await (await fetch(`${t.baseUrl}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(published).toContain(oldKid);
    expect(published).toContain(newKid);
    await jwtVerify(before, jwks, { issuer: t.baseUrl });
    await jwtVerify(after, jwks, { issuer: t.baseUrl });

    // Nothing is retired early; past the retention the old keys are unpublished.
    expect(await t.oidc.keys.retireExpired(KEY_RETENTION_MS)).toEqual([]);
    expect((await t.oidc.keys.retireExpired(-1)).length).toBe(2);
    await t.oidc.reload();
    const remaining = ((await (await fetch(`${t.baseUrl}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(remaining).not.toContain(oldKid);
    expect(remaining).toContain(newKid);
    await expect(jwtVerify(before, createRemoteJWKSet(new URL(`${t.baseUrl}/oidc/jwks`)), { issuer: t.baseUrl })).rejects.toThrow();
  });

  it('CIBA poll: a counter starts sign-in by phone number with a Cyrillic binding message; the phone approves', async () => {
    const rp = await registerRp(t, { ciba_delivery_mode: 'poll', subject_type: 'public' });
    const config = await rp.config();
    // The citizen gave this service the PINFL at a browser sign-in once; the counter may ask for it.
    await codeFlowTokens(t, config, citizen, { params: { scope: 'openid pinfl' } });
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid pinfl',
      login_hint: citizen.phone,
      binding_message: 'Нотариус: договор №12',
      acr_values: 'urn:tasdiq:acr:high',
    });
    expect(started.auth_req_id).toBeTruthy();
    // No second screen shows a code: the phone shows the counter's message to confirm.
    const request = (await citizen.device.pending())!;
    expect(request).toMatchObject({ kind: 'auth', service: 'Sinov xizmati', interaction: 'confirmation_message', confirmationMessage: 'Нотариус: договор №12', verificationCodeChoices: null });
    await citizen.device.confirm(request);
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.05 });
    // Enrolled in person, keys attested as hardware-backed (the support's default phone): high, hwk.
    expect(tokens.claims()).toMatchObject({ acr: 'urn:tasdiq:acr:high', amr: ['user', 'mfa', 'hwk'], sub: citizen.citizenId });
    expect((await client.fetchUserInfo(config, tokens.access_token, citizen.citizenId)).pinfl).toBe(citizen.pinfl);
  });

  it('CIBA refuses unknown citizens, bad binding messages and acr values the client may not use', async () => {
    const rp = await registerRp(t, { ciba_delivery_mode: 'poll', subject_type: 'public' });
    const config = await rp.config();
    const refuse = (params: Record<string, string>) =>
      client.initiateBackchannelAuthentication(config, { scope: 'openid', ...params }).then(
        () => 'accepted',
        (e: unknown) => (e as { error?: string }).error,
      );
    expect(await refuse({ login_hint: '+998909999999' })).toBe('unknown_user_id');
    expect(await refuse({ login_hint: 'bob' })).toBe('invalid_request');
    expect(await refuse({ login_hint: citizen.pinfl, binding_message: 'x'.repeat(65) })).toBe('invalid_binding_message');
    expect(await refuse({ login_hint: citizen.pinfl, acr_values: 'urn:tasdiq:acr:low' })).toBe('invalid_request');
    // None of them reached the citizen's phone.
    expect(await citizen.device.pending()).toBeNull();
  });

  it('CIBA ends in access_denied when the phone refuses, or when nobody answers before the request expires', async () => {
    const rp = await registerRp(t, { ciba_delivery_mode: 'poll', subject_type: 'public' });
    const config = await rp.config();
    const error = (e: unknown) => (e as { error?: string }).error ?? (e as { cause?: { error?: string } }).cause?.error;

    const refused = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: citizen.pinfl, binding_message: 'Bank: kredit #9' });
    await citizen.device.refuse((await citizen.device.pending())!);
    expect(error(await client.pollBackchannelAuthenticationGrant(config, { ...refused, interval: 0.05 }).catch((e: unknown) => e))).toBe('access_denied');

    const unanswered = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: citizen.phone, binding_message: 'Bank: kredit #10' });
    expect(await citizen.device.pending()).toMatchObject({ confirmationMessage: 'Bank: kredit #10' });
    // The phone's request outlives its time while the citizen looks away; the service's sweep ends it.
    t.advance(DEFAULT_POLICY.appTtlMs + 1000);
    expect(error(await client.pollBackchannelAuthenticationGrant(config, { ...unanswered, interval: 0.05 }).catch((e: unknown) => e))).toBe('access_denied');
    const results = await t.app.context.db.selectFrom('auth_sessions').select('result').where('citizen_id', '=', citizen.citizenId).where('reason', 'like', 'Bank: kredit #%').orderBy('created_at').execute();
    expect(results.map((r) => r.result)).toEqual(['USER_REFUSED', 'TIMEOUT']);
    expect(await citizen.device.pending()).toBeNull();
  });
});

describe.each(testDialects())('CIBA ping on %s', (dialect) => {
  let ping: Receiver;
  let t: OidcTestApp;
  beforeAll(async () => {
    // A real receiver on loopback stands at the client's https notification endpoint.
    ping = await receiver('ciba.rp.example.uz', 204);
    t = await createOidcTestApp(dialect, { outboundFetch: ping.outboundFetch });
  });
  afterAll(async () => {
    await t.close();
    await ping.close();
  });

  it('CIBA ping: the client is notified at its endpoint, then collects the tokens', async () => {
    // Enrolled without an in-person visit: the phone proves substantial.
    const citizen = await enrolledCitizen(t, { assurance: 'self_service' });
    const rp = await registerRp(t, { ciba_delivery_mode: 'ping', subject_type: 'public', ciba_notification_endpoint: 'https://ciba.rp.example.uz/ciba' });
    const config = await rp.config();
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid',
      login_hint: citizen.pinfl,
      binding_message: 'Notarius: shartnoma #12',
      client_notification_token: 'notify-me-8f2c1d',
    });
    const request = (await citizen.device.pending())!;
    expect(request).toMatchObject({ interaction: 'confirmation_message', confirmationMessage: 'Notarius: shartnoma #12' });
    // Nothing to tell the client while the phone has not answered.
    expect(ping.received).toEqual([]);
    await citizen.device.confirm(request);
    await expect.poll(() => ping.received.length, { timeout: 10_000 }).toBe(1);
    expect(ping.received[0]!.path).toBe('/ciba');
    expect(ping.received[0]!.auth).toBe('Bearer notify-me-8f2c1d');
    expect(JSON.parse(ping.received[0]!.body)).toEqual({ auth_req_id: started.auth_req_id });
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.05 });
    expect(tokens.claims()?.acr).toBe('urn:tasdiq:acr:substantial');
    expect(tokens.claims()?.sub).toBe(citizen.citizenId);
  });
});
