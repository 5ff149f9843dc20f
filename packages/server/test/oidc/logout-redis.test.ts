import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { testDialects } from '../support/databases.ts';
import { RING_TABLES } from '../../src/oidc/schema.ts';
import { createOidcTestApp, type OidcTestApp } from './support.ts';
import { Browser, codeFlowTokens, registerRp } from './rp.ts';

async function signedIn(t: OidcTestApp, rp: Awaited<ReturnType<typeof registerRp>>, browser: Browser) {
  const config = await rp.config();
  const tokens = await codeFlowTokens(t, config, { browser });
  return { config, tokens };
}

describe.each(testDialects())('back-channel logout on %s', (dialect) => {
  const received: { path: string; body: string }[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body });
      response.writeHead(200).end();
    });
  });
  let t: OidcTestApp;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // TEST TRANSPORT: the client's https logout endpoint is routed to this loopback server.
    const outboundFetch: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.host !== 'rp.example.uz') return Promise.reject(new Error(`unexpected outbound request to ${url.host}`));
      const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(`http://127.0.0.1:${port}${url.pathname}`, rest);
    };
    t = await createOidcTestApp(dialect, { outboundFetch });
  });
  afterAll(async () => {
    await t.close();
    server.close();
  });

  it('tells the service a signed logout token when the citizen signs out', async () => {
    const rp = await registerRp(t, { backchannel_logout_uri: 'https://rp.example.uz/backchannel-logout' });
    const browser = new Browser();
    const { config, tokens } = await signedIn(t, rp, browser);
    const sid = tokens.claims()?.sid;
    expect(sid).toBeTruthy();

    const confirm = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }));
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await confirm.text())?.[1];
    const done = await browser.post(new URL('/oidc/logout/confirm', t.baseUrl), { xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);

    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/backchannel-logout');
    const logoutToken = new URLSearchParams(received[0]!.body).get('logout_token')!;
    const { payload, protectedHeader } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${t.baseUrl}/oidc/jwks`)), {
      issuer: t.baseUrl,
      audience: rp.clientId,
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload).toMatchObject({ sid, sub: tokens.claims()!.sub, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl)('provider state in Redis (REDIS_URL set)', () => {
  let t: OidcTestApp;
  beforeAll(async () => {
    t = await createOidcTestApp('sqlite', { config: { redisUrl: redisUrl! } });
  });
  afterAll(() => t.close());

  it('keeps short-lived state in Redis with TTLs and none in the ring tables', async () => {
    const rp = await registerRp(t);
    const { tokens, config } = await signedIn(t, rp, new Browser());
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    for (const table of RING_TABLES) {
      const row = await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(row.n), table).toBe(0);
    }
    const redis = new Redis(redisUrl!);
    try {
      // An opaque access token is its own storage id.
      const ttl = await redis.pttl(`tasdiq:oidc:AccessToken:${tokens.access_token}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(600_000);
    } finally {
      redis.disconnect();
    }
  });
});
