import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { MobileIdClient, privateKeyJwt } from '../../../client/src/mobile-id-client.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import { createTestDatabase, testDialects } from '../support/databases.ts';
import { forgetExpiredAssertions } from '../../src/openapi/client-auth.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';
import { sampleRegistration } from '../clients/fixtures.ts';
import { makePinfl, validatePinfl } from '../../src/identity/pinfl.ts';

const CLIENT_ID = 'soliq-portal';
const SERVICE = { serviceId: CLIENT_ID, serviceName: 'Soliq portali' };

describe.each(testDialects())('REST API caller authentication (client assertions) on %s', (dialect) => {
  let app: ListeningApp;
  let privateKey: KeyObject;
  let otherKey: KeyObject;

  const assertion = (claims: { iss?: string; aud?: string; iat?: number; jti?: string } = {}, key: KeyObject = privateKey) => {
    const now = Math.floor(Date.now() / 1000);
    const iat = claims.iat ?? now;
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(claims.iss ?? CLIENT_ID)
      .setSubject(claims.iss ?? CLIENT_ID)
      .setAudience(claims.aud ?? `${app.config.publicUrl}/api/v1/auth/sessions`)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti(claims.jti ?? randomUUID())
      .sign(key);
  };
  const start = async (token: string | undefined, body: Record<string, unknown>, path = '/api/v1/auth/sessions') => {
    const response = await fetch(app.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { code?: string; sessionId?: string } };
  };
  const citizen = async () => (await enrollCitizen(app.context.db, app.url, app.clock)).pinfl;

  beforeAll(async () => {
    app = await listeningApp(dialect);
    ({ privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    ({ privateKey: otherKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    await new ClientRegistry(app.context.db, app.clock).register(sampleRegistration({ client_id: CLIENT_ID, jwks: { keys: [{ ...jwk, use: 'sig', alg: 'ES256', kid: 'k1' }] } }));
  });
  afterAll(async () => app.close());

  it('accepts a valid assertion once; a replay is refused', async () => {
    const token = await assertion();
    const first = await start(token, { ...SERVICE, pinfl: await citizen() });
    expect(first.status).toBe(201);
    const replay = await start(token, { ...SERVICE, pinfl: await citizen() });
    expect(replay).toMatchObject({ status: 401, body: { code: 'client_assertion_invalid' } });
  });

  it('uses an assertion up with the session it starts: of parallel replays exactly one starts a session', async () => {
    const token = await assertion();
    const pinfls = await Promise.all(Array.from({ length: 6 }, () => citizen()));
    const answers = await Promise.all(pinfls.map((pinfl) => start(token, { ...SERVICE, pinfl })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401, 401, 401, 401, 401]);
    expect(answers.filter((a) => a.status === 401).map((a) => a.body.code)).toEqual(Array(5).fill('client_assertion_invalid'));
    const sessions = await app.context.db.selectFrom('auth_sessions').select('id').where('citizen_id', 'in', (eb) => eb.selectFrom('citizens').select('id').where('pinfl', 'in', pinfls)).execute();
    expect(sessions).toHaveLength(1);
  });

  it('a request refused after its assertion was checked uses the assertion up too', async () => {
    // A PINFL the session start refuses (bad check digit): nothing is started, the assertion is spent.
    const token = await assertion();
    expect(validatePinfl('12345678901234').ok).toBe(false);
    const refused = await start(token, { ...SERVICE, pinfl: '12345678901234' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    expect(await start(token, { ...SERVICE, pinfl: await citizen() })).toMatchObject({ status: 401, body: { code: 'client_assertion_invalid' } });
    // A citizen without the app: NOT_ACTIVATED is written with the used assertion, once.
    const unknown = await assertion();
    const stranger = makePinfl('1995-01-30', 'M', 870, 19);
    const notActivated = await start(unknown, { ...SERVICE, pinfl: stranger });
    expect(notActivated.status).toBe(201);
    expect(await start(unknown, { ...SERVICE, pinfl: stranger })).toMatchObject({ status: 401, body: { code: 'client_assertion_invalid' } });
  });

  it('shows the phone the registered name of an authenticated service, not the name it sent', async () => {
    const started = await start(await assertion(), { ...SERVICE, serviceName: 'Bank of Phishing', pinfl: await citizen() });
    expect(started.status).toBe(201);
    const row = await app.context.db.selectFrom('auth_sessions').selectAll().where('id', '=', started.body.sessionId!).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).toContain('Soliq portali');
    expect(JSON.stringify(row)).not.toContain('Phishing');
  });

  it("names the service in the caller's language, and binds an SMS code only to the service's own hosts", async () => {
    const response = await fetch(`${app.url}/api/v1/auth/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': 'ru', authorization: `Bearer ${await assertion()}` },
      body: JSON.stringify({ ...SERVICE, pinfl: await citizen() }),
    });
    expect(response.status).toBe(201);
    const { sessionId } = (await response.json()) as { sessionId: string };
    expect((await app.context.db.selectFrom('auth_sessions').select('service_name').where('id', '=', sessionId).executeTakeFirstOrThrow()).service_name).toBe('Налоговый портал');
    // the SMS text says "@my.soliq.uz #123456": only a host of the client's registered redirect URIs
    const own = await start(await assertion(), { ...SERVICE, pinfl: await citizen(), mode: 'sms_otp', origin: 'my.soliq.uz' });
    expect(own.status).toBe(201);
    const before = await app.context.db.selectFrom('auth_sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const foreign = await start(await assertion(), { ...SERVICE, pinfl: await citizen(), mode: 'sms_otp', origin: 'my.gov.uz' });
    expect(foreign).toMatchObject({ status: 403, body: { code: 'client_origin_not_registered' } });
    const after = await app.context.db.selectFrom('auth_sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('refuses a serviceId other than the authenticated client, without starting a session', async () => {
    const pinfl = await citizen();
    const answer = await start(await assertion(), { serviceId: 'my.gov.uz', serviceName: 'Boshqa', pinfl });
    expect(answer).toMatchObject({ status: 403, body: { code: 'client_service_mismatch' } });
    const rows = await app.context.db.selectFrom('auth_sessions').select('id').where('client_id', '=', 'my.gov.uz').execute();
    expect(rows).toHaveLength(0);
  });

  it('refuses assertions with the wrong audience, key, issuer or age, and malformed headers', async () => {
    const body = async () => ({ ...SERVICE, pinfl: await citizen() });
    const refusals = [
      await start(await assertion({ aud: `${app.config.publicUrl}/api/v1/sign/sessions` }), await body()),
      await start(await assertion({}, otherKey), await body()),
      await start(await assertion({ iss: 'unknown-client' }), await body()),
      await start(await assertion({ iat: Math.floor(Date.now() / 1000) - 600 }), await body()),
      await start(await assertion({ jti: 'short' }), await body()),
      await start('not-a-jwt', await body()),
    ];
    expect(refusals.map((r) => [r.status, r.body.code])).toEqual(Array(6).fill([401, 'client_assertion_invalid']));
  });

  it('binds a signing session to its endpoint, and the typed client signs assertions itself', async () => {
    const client = new MobileIdClient({ baseUrl: app.url, clientAssertion: privateKeyJwt({ clientId: CLIENT_ID, privateKey, publicUrl: app.config.publicUrl }) });
    const pinfl = await citizen();
    const used = async () => (await app.context.db.selectFrom('rest_used_assertions').select('id_hash').execute()).length;
    const before = await used();
    const started = await client.startAuthentication({ ...SERVICE, pinfl });
    expect(started.sessionId).toMatch(/^as_/);
    // the client's assertion was checked and spent, not skipped as anonymous
    expect(await used()).toBe(before + 1);
    const signing = await start(await assertion({ aud: `${app.config.publicUrl}/api/v1/sign/sessions` }), { ...SERVICE, pinfl: await citizen(), documentHash: 'A'.repeat(43), documentName: 'x.pdf' }, '/api/v1/sign/sessions');
    expect(signing.status).toBe(201);
  });

  it('a registered serviceId needs its assertion; an unregistered one is still accepted anonymously', async () => {
    expect(await start(undefined, { ...SERVICE, pinfl: await citizen() })).toMatchObject({ status: 401, body: { code: 'client_assertion_required' } });
    expect(await start(undefined, { ...SERVICE, pinfl: await citizen(), documentHash: 'A'.repeat(43), documentName: 'x.pdf' }, '/api/v1/sign/sessions')).toMatchObject({
      status: 401,
      body: { code: 'client_assertion_required' },
    });
    expect((await start(undefined, { serviceId: 'unregistered.uz', serviceName: 'Unregistered', pinfl: await citizen() })).status).toBe(201);
  });
});

describe('REST API caller authentication outside development', () => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp('sqlite', { config: { development: false } });
  });
  afterAll(async () => app.close());

  it('refuses every anonymous session start, registered serviceId or not, and writes nothing', async () => {
    const pinfl = (await enrollCitizen(app.context.db, app.url, app.clock)).pinfl;
    const before = await app.context.db.selectFrom('auth_sessions').select('id').execute();
    const service = { serviceId: 'unregistered.uz', serviceName: 'Unregistered', pinfl };
    for (const [path, body] of [
      ['/api/v1/auth/sessions', service],
      ['/api/v1/sign/sessions', { ...service, documentHash: 'A'.repeat(43), documentName: 'x.pdf' }],
    ] as const) {
      const response = await fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe('client_authentication_required');
      expect(response.headers.get('www-authenticate')).toMatch(/invalid_client/);
    }
    expect(await app.context.db.selectFrom('auth_sessions').select('id').execute()).toEqual(before);
  });

  it('does not serve the demo sign-in page, which starts sessions anonymously', async () => {
    expect((await fetch(`${app.url}/auth/signin`)).status).toBe(404);
  });
});

describe.each(testDialects())('forgetting used client assertions on %s', (dialect) => {
  it('deletes expired ones only, at most a batch per statement', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const rows = [1, 2, 3, 4, 5].map((n) => ({ id_hash: `expired-${n}`, expires_at: 1_000 + n })).concat([{ id_hash: 'live', expires_at: 9_000 }]);
      await database.db.insertInto('rest_used_assertions').values(rows).execute();
      expect(await forgetExpiredAssertions(database.db, 5_000, 2)).toBe(2);
      expect(await forgetExpiredAssertions(database.db, 5_000, 2)).toBe(2);
      expect(await forgetExpiredAssertions(database.db, 5_000, 2)).toBe(1);
      expect(await forgetExpiredAssertions(database.db, 5_000, 2)).toBe(0);
      expect(await database.db.selectFrom('rest_used_assertions').select('id_hash').execute()).toEqual([{ id_hash: 'live' }]);
    } finally {
      await database.dispose();
    }
  });
});
