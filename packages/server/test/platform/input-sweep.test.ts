import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair } from 'jose';
import { DeviceClient } from '../../../client/src/index.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import { enrollCitizen } from '../devices/enroll.ts';
import { registerOperator, type OperatorSession } from '../enrollment/helpers.ts';
import { clientAssertion, NAMES, type Rp } from '../oidc/journey.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { encodeComponent, HOSTILE_TEXT, mutations, plausible } from '../support/hostile-input.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Operation {
  readonly path: string;
  readonly method: Method;
  readonly bodySchema: unknown;
}

/**
 * Every route against hostile input, on each database: whatever a stranger, a signed-in
 * operator, an activated phone or a registered client sends, the answer is a 4xx with a
 * machine-readable code, never a 5xx. PostgreSQL is the stricter of the two (it refuses text
 * SQLite stores), so this found what the SQLite runs could not.
 */
describe.each(testDialects())('hostile input on every route, %s', (dialect) => {
  let app: TestApp;
  let document: { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>> };
  let admin: OperatorSession;
  let device: DeviceClient;
  let citizenId: string;
  let rp: Pick<Rp, 'clientId' | 'privateKey'>;
  beforeAll(async () => {
    // Served on its default public URL (a passkey's origin must be a host name, not an IP),
    // and on a loopback port for the phone, whose client speaks HTTP.
    app = await createTestApp(dialect);
    await app.http.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.http.server.address() as { port: number };
    document = (await app.http.inject('/openapi.json')).json();
    admin = await registerOperator(app, 'admin');
    const citizen = await enrollCitizen(app.context.db, `http://127.0.0.1:${port}`);
    citizenId = citizen.citizenId;
    device = await DeviceClient.activate(`http://127.0.0.1:${port}`, await citizen.activationCode());
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await new ClientRegistry(app.context.db).register({
      client_id: 'sweep-rp',
      name: NAMES,
      redirect_uris: ['https://rp.example.uz/callback'],
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
      scopes: ['openid', 'pinfl', 'profile'],
      acr_values: ['urn:tasdiq:acr:substantial'],
      contacts: ['it@rp.example.uz'],
      ciba_delivery_mode: 'poll',
      subject_type: 'public',
    });
    rp = { clientId: 'sweep-rp', privateKey };
  });
  afterAll(() => app?.close());

  /** What went wrong, one line a request, so a failure lists every route at once. */
  const problems: string[] = [];
  const check = (response: LightMyRequestResponse, what: string, problemJson: boolean) => {
    if (response.statusCode >= 500) problems.push(`${response.statusCode} ${what} -> ${response.body.slice(0, 160)}`);
    else if (problemJson && response.statusCode >= 400) {
      const body = response.headers['content-type']?.startsWith('application/problem+json') ? (response.json() as { code?: unknown }) : undefined;
      if (typeof body?.code !== 'string') problems.push(`${response.statusCode} without a problem code: ${what}`);
    }
  };
  const describeRequest = (method: string, url: string, payload: string) => `${method} ${url.slice(0, 100)} ${payload.slice(0, 120)}`;

  function operations(): Operation[] {
    const all: Operation[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'delete'].includes(method)) continue;
        all.push({ path, method: method.toUpperCase() as Method, bodySchema: operation.requestBody?.content?.['application/json']?.schema });
      }
    }
    // Routes that end the operator's session or revoke the phone go last, so the rest is swept signed in.
    const ending = (path: string) => /sign-out|revoke|suspend|disable/.test(path);
    return all.sort((a, b) => Number(ending(a.path)) - Number(ending(b.path)));
  }

  it('the API: every operation, as a stranger, an admin operator and an activated phone', async () => {
    problems.length = 0;
    let sent = 0;
    for (const operation of operations()) {
      const isDeviceRoute = operation.path.startsWith('/api/v1/device/') && !/activate|push-config|\/ca\//.test(operation.path);
      const urls = ['x', 'a'.repeat(200), '%00', '%E0%A4%A', citizenId, device.deviceId].map((value) => operation.path.replace(/\{[^}]+\}/g, value));
      const bodies = operation.bodySchema ? [...mutations(operation.bodySchema, document, plausible(operation.bodySchema, document))] : [undefined];
      for (const url of urls) {
        for (const body of bodies) {
          const payload = body === undefined ? '' : JSON.stringify(body);
          const credentials = isDeviceRoute ? await device.signRequest(operation.method, url, payload) : { cookie: admin.cookie, 'x-tasdiq-csrf': admin.csrf };
          const headers: Record<string, string> = { ...credentials, ...(payload ? { 'content-type': 'application/json' } : {}) };
          check(await app.http.inject({ method: operation.method, url, headers, ...(payload ? { payload } : {}) }), describeRequest(operation.method, url, payload), true);
          sent++;
        }
        // And once without any credentials, with a malformed body.
        check(await app.http.inject({ method: operation.method, url, headers: { 'content-type': 'application/json' }, ...(operation.method === 'GET' ? {} : { payload: '{"a":' }) }), `anonymous ${operation.method} ${url}`, true);
      }
    }
    expect(sent).toBeGreaterThan(5_000);
    expect(problems).toEqual([]);
  });

  it('OpenID Connect: PAR, CIBA, token, introspection and revocation, as a registered client', async () => {
    problems.length = 0;
    const post = async (path: string, form: Record<string, string>, authenticated = true) => {
      const assertion = authenticated ? { client_id: rp.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(rp as Rp, app.config.publicUrl) } : {};
      const payload = Object.entries({ ...assertion, ...form })
        .map(([key, value]) => `${key}=${encodeComponent(value)}`)
        .join('&');
      const response = await app.http.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
      check(response, describeRequest('POST', path, JSON.stringify(form)), false);
    };
    const requests: Record<string, { base: Record<string, string>; fields: string[] }> = {
      '/oidc/par': {
        base: { response_type: 'code', redirect_uri: 'https://rp.example.uz/callback', scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' },
        fields: ['response_type', 'redirect_uri', 'scope', 'code_challenge', 'acr_values', 'login_hint', 'claims', 'ui_locales', 'prompt', 'max_age', 'request', 'response_mode', 'authorization_details', 'resource'],
      },
      '/oidc/backchannel': {
        base: { scope: 'openid pinfl', login_hint: '31505900012345', binding_message: 'ABC123' },
        fields: ['scope', 'login_hint', 'binding_message', 'acr_values', 'requested_expiry', 'id_token_hint', 'login_hint_token', 'request'],
      },
      '/oidc/token': { base: { grant_type: 'authorization_code' }, fields: ['grant_type', 'code', 'redirect_uri', 'code_verifier'] },
      '/oidc/token#refresh': { base: { grant_type: 'refresh_token' }, fields: ['refresh_token', 'scope'] },
      '/oidc/token#ciba': { base: { grant_type: 'urn:openid:params:grant-type:ciba' }, fields: ['auth_req_id'] },
      '/oidc/introspect': { base: { token: 'x' }, fields: ['token', 'token_type_hint'] },
      '/oidc/revoke': { base: { token: 'x' }, fields: ['token', 'token_type_hint'] },
    };
    for (const [target, { base, fields }] of Object.entries(requests)) {
      const path = target.split('#')[0]!;
      for (const field of fields) for (const text of HOSTILE_TEXT) await post(path, { ...base, [field]: text });
      // A stranger naming any client at all.
      for (const text of HOSTILE_TEXT) await post(path, { ...base, client_id: text }, false);
    }
    expect(problems).toEqual([]);
  });

  it('the sign-in pages and the authorization endpoint, with whatever a browser could be made to send', async () => {
    problems.length = 0;
    for (const text of HOSTILE_TEXT) {
      for (const parameter of ['client_id', 'redirect_uri', 'scope', 'request_uri', 'login_hint', 'ui_locales', 'claims', 'prompt']) {
        const query = `client_id=${rp.clientId}&response_type=code&scope=openid&${parameter}=${encodeComponent(text)}`;
        check(await app.http.inject(`/oidc/authorize?${query}`), `GET /oidc/authorize ${parameter}=${text.slice(0, 40)}`, false);
      }
      check(await app.http.inject(`/oidc/logout?post_logout_redirect_uri=${encodeComponent(text)}&client_id=${encodeComponent(text)}`), `GET /oidc/logout ${text.slice(0, 40)}`, false);
      check(await app.http.inject(`/auth/signin?lang=${encodeComponent(text)}`), `GET /auth/signin lang=${text.slice(0, 40)}`, false);
    }
    // Under /oidc, what the provider does not serve (a mistyped path, the flows it only names) is the service's own 404.
    for (const path of ['/oidc/auth', '/oidc/register', '/oidc/device', '/oidc/credential', '/oidc/nothing/at/all']) {
      const response = await app.http.inject(path);
      expect(response.statusCode, path).toBe(404);
      expect(response.json(), path).toMatchObject({ code: 'not_found' });
    }
    for (const uid of ['x', 'a'.repeat(300), '%00', '%E0%A4%A', 'abcdefghijklmnopqrstu']) {
      for (const page of ['', '/status', '/complete', '/qr']) check(await app.http.inject(`/signin/${uid}${page}`), `GET /signin/${uid}${page}`, false);
      for (const action of ['start', 'switch', 'consent', 'otp', 'abort']) {
        for (const field of ['hint', 'method', 'decision', 'code']) {
          for (const text of HOSTILE_TEXT) {
            const response = await app.http.inject({
              method: 'POST',
              url: `/signin/${uid}/${action}`,
              headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `_interaction=${encodeComponent(text)}` },
              payload: `${field}=${encodeComponent(text)}`,
            });
            check(response, `POST /signin/${uid}/${action} ${field}=${text.slice(0, 40)}`, false);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  /** A sign-in as a browser starts it: PAR by the client, then the authorization redirect to its page (path and cookies). */
  async function liveSignIn(): Promise<{ path: string; cookie: string }> {
    const par = await app.http.inject({
      method: 'POST',
      url: '/oidc/par',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        client_id: rp.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(rp as Rp, app.config.publicUrl),
        response_type: 'code',
        redirect_uri: 'https://rp.example.uz/callback',
        scope: 'openid pinfl',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString(),
    });
    expect(par.statusCode, par.body).toBe(201);
    const entry = await app.http.inject(`/oidc/authorize?client_id=${rp.clientId}&request_uri=${encodeURIComponent(par.json().request_uri)}`);
    expect(entry.statusCode).toBe(303);
    const path = entry.headers.location!.split('?')[0]!;
    expect(path).toMatch(/^\/signin\/[A-Za-z0-9_-]+$/);
    const cookie = ([] as string[])
      .concat(entry.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
    expect((await app.http.inject({ url: path, headers: { cookie } })).statusCode).toBe(200);
    return { path, cookie };
  }

  it('a live sign-in: its pages and forms, with every hostile value in every field', async () => {
    problems.length = 0;
    // A fresh sign-in for each field: each allows only so many tries a minute (429 after).
    for (const action of ['start', 'switch', 'otp', 'consent']) {
      for (const field of ['hint', 'method', 'code', 'decision', 'lang']) {
        const { path, cookie } = await liveSignIn();
        for (const text of HOSTILE_TEXT) {
          const response = await app.http.inject({
            method: 'POST',
            url: `${path}/${action}?lang=en`,
            headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
            payload: `hint=${field === 'hint' ? encodeComponent(text) : '%2B998901234567'}&method=${field === 'method' ? encodeComponent(text) : 'app'}&${field}=${encodeComponent(text)}`,
          });
          check(response, `POST ${action} ${field}=${text.slice(0, 40)}`, false);
          if (response.statusCode === 429) problems.push(`429 before the sweep's tries ran out: ${action} ${field}`);
        }
        // The sign-in is still there for its citizen: nothing above broke it.
        expect((await app.http.inject({ url: `${path}?lang=en`, headers: { cookie } })).statusCode).toBeLessThan(500);
      }
    }
    const { path, cookie } = await liveSignIn();
    for (const page of ['', '/status', '/qr', '/complete']) {
      for (const text of HOSTILE_TEXT) check(await app.http.inject({ url: `${path}${page}?lang=${encodeComponent(text)}`, headers: { cookie } }), `GET ${page} lang=${text.slice(0, 40)}`, false);
    }
    expect(problems).toEqual([]);
  });
});
