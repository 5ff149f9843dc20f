import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { call, registerOperator, type OperatorSession } from '../enrollment/helpers.ts';
import { sampleRegistration } from './fixtures.ts';

function put(app: TestApp, session: OperatorSession, url: string, payload: object, ifMatch?: string) {
  return app.http.inject({
    method: 'PUT',
    url,
    headers: { cookie: session.cookie, 'x-tasdiq-csrf': session.csrf, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
    payload,
  });
}

const fieldCodes = (body: { errors?: { field: string; code: string }[] }) => (body.errors ?? []).map((e) => `${e.field}:${e.code}`);

describe.each(testDialects())('relying-party admin API on %s', (dialect) => {
  let app: TestApp;
  let admin: OperatorSession;
  let operator: OperatorSession;
  beforeAll(async () => {
    app = await createTestApp(dialect);
    admin = await registerOperator(app, 'admin');
    operator = await registerOperator(app, 'operator');
  });
  afterAll(() => app.close());

  it('lets an admin register, read, list, disable and enable a client, each change audited', async () => {
    const created = await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration());
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ clientId: 'soliq-portal', status: 'active', subjectType: 'pairwise', sectorIdentifier: 'my.soliq.uz' });

    expect((await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json()).toMatchObject({ clientId: 'soliq-portal' });
    const listed = await call(app, admin, 'GET', '/api/v1/admin/clients?status=active');
    expect(listed.json()).toMatchObject({ items: [{ clientId: 'soliq-portal' }], next: null });

    const disabled = await call(app, admin, 'POST', '/api/v1/admin/clients/soliq-portal/disable');
    expect(disabled.json()).toMatchObject({ status: 'disabled' });
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients/soliq-portal/enable')).json()).toMatchObject({ status: 'active' });

    const audit = await app.context.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id'])
      .where('action', 'like', 'clients.%')
      .orderBy('at')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['clients.registered', 'clients.disabled', 'clients.enabled']);
    expect(new Set(audit.map((a) => `${a.actor_type}:${a.actor_id}`))).toEqual(new Set([`operator:${admin.operatorId}`]));
  });

  it('answers bad registrations field by field and writes nothing', async () => {
    const before = await app.context.db.selectFrom('relying_parties').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const bad = await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration({ client_id: 'other-rp', redirect_uris: ['http://evil.example/cb'], client_secret: 's' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json()).toMatchObject({ code: 'client_invalid' });
    expect(bad.json().errors.map((e: { field: string; code: string }) => `${e.field}:${e.code}`)).toEqual([
      'client_secret:unknown_field',
      'client_secret:secret_not_supported',
      'redirect_uris.0:url_not_https',
    ]);
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration())).json()).toMatchObject({ code: 'client_exists' });
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients/nobody-here/disable')).json()).toMatchObject({ code: 'client_not_found' });
    const after = await app.context.db.selectFrom('relying_parties').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('refuses strangers, operators without the admin role, and state changes without the CSRF header', async () => {
    expect((await call(app, undefined, 'GET', '/api/v1/admin/clients')).statusCode).toBe(401);
    const forbidden = await call(app, operator, 'POST', '/api/v1/admin/clients', sampleRegistration({ client_id: 'sneaky-rp' }));
    expect(forbidden.statusCode).toBe(403);
    const noCsrf = await app.http.inject({ method: 'POST', url: '/api/v1/admin/clients/soliq-portal/disable', headers: { cookie: admin.cookie }, payload: {} });
    expect(noCsrf.statusCode).toBe(403);
    expect((await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json()).toMatchObject({ status: 'active' });
  });

  it('replaces a client over the version it was loaded at (If-Match), audited with the changed field names', async () => {
    const loaded = await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal');
    const version = loaded.json().version as number;
    expect(loaded.headers.etag).toBe(`"${version}"`);
    const document = sampleRegistration({ redirect_uris: ['https://my.soliq.uz/callback', 'https://my.soliq.uz/second'], id_token_signed_response_alg: 'EdDSA' });

    const blind = await put(app, admin, '/api/v1/admin/clients/soliq-portal', document);
    expect(blind.statusCode).toBe(428);
    expect(blind.json()).toMatchObject({ code: 'client_precondition_required' });
    expect((await put(app, admin, '/api/v1/admin/clients/soliq-portal', document, '*')).statusCode).toBe(428);

    const stale = await put(app, admin, '/api/v1/admin/clients/soliq-portal', document, `"${version - 1}"`);
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'client_version_conflict' });
    expect(stale.headers.etag).toBe(`"${version}"`);

    const updated = await put(app, admin, '/api/v1/admin/clients/soliq-portal', document, `"${version}"`);
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      clientId: 'soliq-portal',
      version: version + 1,
      redirectUris: ['https://my.soliq.uz/callback', 'https://my.soliq.uz/second'],
      idTokenSignedResponseAlg: 'EdDSA',
    });
    expect(updated.headers.etag).toBe(`"${version + 1}"`);
    // The other admin's edit, made over the same version, no longer applies.
    const second = await put(app, admin, '/api/v1/admin/clients/soliq-portal', sampleRegistration({ contacts: ['late@soliq.uz'] }), `"${version}"`);
    expect(second.statusCode).toBe(412);

    const event = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'clients.updated').executeTakeFirstOrThrow();
    expect(event).toMatchObject({ actor_type: 'operator', actor_id: admin.operatorId, office_id: 'psc-tk-01' });
    expect(JSON.parse(event.details as string)).toEqual({ clientId: 'soliq-portal', changed: ['redirect_uris', 'id_token_signed_response_alg'], version: version + 1 });
  });

  it('answers a bad replacement field by field, refuses a new sector with the reason, and writes nothing', async () => {
    const { version } = (await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json() as { version: number };
    const bad = await put(
      app,
      admin,
      '/api/v1/admin/clients/soliq-portal',
      sampleRegistration({ redirect_uris: ['https://my.soliq.uz/cb#frag'], sector_identifier: 'soliq.uz', jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } }),
      `"${version}"`,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'client_invalid' });
    expect(fieldCodes(bad.json())).toEqual(['sector_identifier:sector_immutable', 'redirect_uris.0:url_fragment', 'jwks.keys.0:jwk_rsa_size']);
    expect(bad.json().errors[0].message).toMatch(/pairwise subjects/);
    const after = (await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json();
    expect(after).toMatchObject({ version, sectorIdentifier: 'my.soliq.uz' });
    expect((await put(app, admin, '/api/v1/admin/clients/nobody-here', sampleRegistration(), '"1"')).json()).toMatchObject({ code: 'client_not_found' });
    expect((await put(app, operator, '/api/v1/admin/clients/soliq-portal', sampleRegistration(), `"${version}"`)).statusCode).toBe(403);
    const noCsrf = await app.http.inject({ method: 'PUT', url: '/api/v1/admin/clients/soliq-portal', headers: { cookie: admin.cookie, 'if-match': `"${version}"` }, payload: sampleRegistration() });
    expect(noCsrf.statusCode).toBe(403);
    expect((await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json()).toMatchObject({ version });
  });

  it('rotates an inline key for the provider at once: the old key no longer authenticates the client, the new one does', async () => {
    const oldKey = await generateKeyPair('ES256', { extractable: true });
    const newKey = await generateKeyPair('ES256', { extractable: true });
    const document = (key: CryptoKey, kid: string) =>
      exportJWK(key).then((jwk) => sampleRegistration({ client_id: 'rotating-rp', redirect_uris: ['https://rp.example.uz/cb'], jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] } }));
    const created = await call(app, admin, 'POST', '/api/v1/admin/clients', await document(oldKey.publicKey, 'old'));
    expect(created.statusCode, created.body).toBe(201);

    const issuer = app.context.config.publicUrl;
    const par = async (key: CryptoKey, kid: string) => {
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer('rotating-rp')
        .setSubject('rotating-rp')
        .setAudience(issuer)
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(key);
      return app.http.inject({
        method: 'POST',
        url: '/oidc/par',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          client_id: 'rotating-rp',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          response_type: 'code',
          redirect_uri: 'https://rp.example.uz/cb',
          scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        }).toString(),
      });
    };
    const before = await par(oldKey.privateKey, 'old');
    expect(before.statusCode, before.body).toBe(201);

    const rotated = await put(app, admin, '/api/v1/admin/clients/rotating-rp', await document(newKey.publicKey, 'new'), created.headers.etag as string);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const withOld = await par(oldKey.privateKey, 'old');
    expect(withOld.statusCode).toBe(401);
    expect(withOld.json()).toMatchObject({ error: 'invalid_client' });
    const withNew = await par(newKey.privateKey, 'new');
    expect(withNew.statusCode, withNew.body).toBe(201);
  });
});
