import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { testDialects } from '../support/databases.ts';
import { RING_TABLES } from '../../src/oidc/schema.ts';
import { createOidcTestApp, enrolledCitizen, receiver, type Citizen, type OidcTestApp, type Receiver } from './support.ts';
import { Browser, codeFlowTokens, registerRp } from './rp.ts';

async function signedIn(t: OidcTestApp, rp: Awaited<ReturnType<typeof registerRp>>, citizen: Citizen, browser: Browser) {
  const config = await rp.config();
  const tokens = await codeFlowTokens(t, config, citizen, { browser });
  return { config, tokens };
}

describe.each(testDialects())('back-channel logout on %s', (dialect) => {
  let logout: Receiver;
  let t: OidcTestApp;
  beforeAll(async () => {
    // A real receiver on loopback stands at the client's https back-channel logout endpoint.
    logout = await receiver('rp.example.uz');
    t = await createOidcTestApp(dialect, { outboundFetch: logout.outboundFetch });
  });
  afterAll(async () => {
    await t.close();
    await logout.close();
  });

  it('tells the service a signed logout token when the citizen signs out', async () => {
    const rp = await registerRp(t, { backchannel_logout_uri: 'https://rp.example.uz/backchannel-logout' });
    const browser = new Browser();
    const citizen = await enrolledCitizen(t);
    const { config, tokens } = await signedIn(t, rp, citizen, browser);
    // Signed in, nothing sent yet.
    expect(logout.received).toEqual([]);
    const sid = tokens.claims()?.sid;
    expect(sid).toBeTruthy();

    const confirm = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }));
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await confirm.text())?.[1];
    const done = await browser.post(new URL('/oidc/logout/confirm', t.baseUrl), { xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);

    await expect.poll(() => logout.received.length, { timeout: 10_000 }).toBe(1);
    expect(logout.received[0]!.path).toBe('/backchannel-logout');
    const logoutToken = new URLSearchParams(logout.received[0]!.body).get('logout_token')!;
    const { payload, protectedHeader } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${t.baseUrl}/oidc/jwks`)), {
      issuer: t.baseUrl,
      audience: rp.clientId,
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload).toMatchObject({ sid, sub: tokens.claims()!.sub, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl).each(testDialects())('provider state in Redis (REDIS_URL set) on %s', (dialect) => {
  let t: OidcTestApp;
  beforeAll(async () => {
    t = await createOidcTestApp(dialect, { config: { redisUrl: redisUrl! } });
  });
  afterAll(() => t.close());

  it('keeps short-lived state in Redis with TTLs and none in the ring tables', async () => {
    const rp = await registerRp(t);
    const { tokens, config } = await signedIn(t, rp, await enrolledCitizen(t), new Browser());
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
