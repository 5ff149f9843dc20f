import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, CITIZEN, type OidcTestApp } from './support.ts';
import { codeFlowTokens, registerRp } from './rp.ts';
import { KEY_RETENTION_MS } from '../../src/oidc/provider.ts';
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
  beforeAll(async () => {
    t = await createOidcTestApp(dialect);
  });
  afterAll(() => t.close());

  async function idToken(rp: Awaited<ReturnType<typeof registerRp>>): Promise<string> {
    const tokens = await codeFlowTokens(t, await rp.config());
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
    t.authenticator.autoApprove = { status: 'approved', citizenId: CITIZEN.citizenId, acr: 'urn:tasdiq:acr:high', amr: ['hwk', 'face'], authTime: Date.now() };
    try {
      const started = await client.initiateBackchannelAuthentication(config, {
        scope: 'openid pinfl',
        login_hint: '+998901234567',
        binding_message: 'Нотариус: договор №12',
        acr_values: 'urn:tasdiq:acr:high',
      });
      expect(started.auth_req_id).toBeTruthy();
      expect(t.authenticator.started.at(-1)).toMatchObject({ bindingMessage: 'Нотариус: договор №12', acrValues: ['urn:tasdiq:acr:high'] });
      const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.05 });
      expect(tokens.claims()).toMatchObject({ acr: 'urn:tasdiq:acr:high', amr: ['hwk', 'face'] });
    } finally {
      t.authenticator.autoApprove = undefined;
    }
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
    expect(await refuse({ login_hint: '31234567890123', binding_message: 'x'.repeat(65) })).toBe('invalid_binding_message');
    expect(await refuse({ login_hint: '31234567890123', acr_values: 'urn:tasdiq:acr:low' })).toBe('invalid_request');
  });
});

describe.each(testDialects())('CIBA ping on %s', (dialect) => {
  const pings: { url: string; auth: string | undefined; body: string }[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      pings.push({ url: request.url ?? '', auth: request.headers.authorization, body });
      response.writeHead(204).end();
    });
  });
  let t: OidcTestApp;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // TEST TRANSPORT: the client's https endpoint is routed to this loopback server; what
    // oidc-provider sends (method, bearer token, body) is unchanged.
    const outboundFetch: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.host !== 'ciba.rp.example.uz') return Promise.reject(new Error(`unexpected outbound request to ${url.host}`));
      const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(`http://127.0.0.1:${port}${url.pathname}`, rest);
    };
    t = await createOidcTestApp(dialect, { outboundFetch });
  });
  afterAll(async () => {
    await t.close();
    server.close();
  });

  it('CIBA ping: the client is notified at its endpoint, then collects the tokens', async () => {
    try {
      const rp = await registerRp(t, { ciba_delivery_mode: 'ping', subject_type: 'public', ciba_notification_endpoint: 'https://ciba.rp.example.uz/ciba' });
      const config = await rp.config();
      t.authenticator.autoApprove = { status: 'approved', citizenId: CITIZEN.citizenId, acr: 'urn:tasdiq:acr:substantial', amr: ['pin'], authTime: Date.now() };
      const started = await client.initiateBackchannelAuthentication(config, {
        scope: 'openid',
        login_hint: '31234567890123',
        client_notification_token: 'notify-me-8f2c1d',
      });
      for (let i = 0; i < 100 && pings.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(pings).toHaveLength(1);
      expect(pings[0]!.auth).toBe('Bearer notify-me-8f2c1d');
      expect(JSON.parse(pings[0]!.body)).toEqual({ auth_req_id: started.auth_req_id });
      const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.05 });
      expect(tokens.claims()?.acr).toBe('urn:tasdiq:acr:substantial');
    } finally {
      t.authenticator.autoApprove = undefined;
    }
  });
});
