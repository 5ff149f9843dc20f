import 'reflect-metadata';
import { createRequire } from 'node:module';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '@peculiar/x509';
import { DeviceClient, TasdiqApiError } from '../../../client/src/index.ts';
import {
  MobileIdClient,
  MobileIdTimeoutError,
  MobileIdVerificationError,
  authenticationBody,
  documentHash,
  signingBody,
  type MobileIdSessionView,
} from '../../../client/src/mobile-id-client.ts';
import type { OpenApiDocument } from '../../src/openapi/index.ts';
import { TAGS } from '../../src/openapi/catalog.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';

// Ajv 8 with JSON Schema 2020-12 (OpenAPI 3.1's dialect), from the copy Fastify installs.
interface Validator {
  (data: unknown): boolean;
  errors?: unknown;
}
interface Ajv2020 {
  addSchema(schema: object): void;
  compile(schema: object): Validator;
}
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('@fastify/ajv-compiler'));
const Ajv = (requireFromFastify('ajv/dist/2020') as { default: new (options: object) => Ajv2020 }).default;

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'Yagona interaktiv davlat xizmatlari portali' };
const DOCUMENT_ID = 'urn:tasdiq:openapi';

/** Follows a local JSON pointer (`#/a/b`) in the document. */
function resolvePointer(document: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
}

function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refsIn(value, found);
    }
  }
  return found;
}

describe.each(testDialects())('Mobile-ID REST API and its OpenAPI document on %s', (dialect) => {
  let app: ListeningApp;
  let document: OpenApiDocument;
  let ajv: Ajv2020;
  let client: MobileIdClient;

  /** Fails with ajv's own explanation, so a drift says which field moved. */
  const expectValid = (schema: object, data: unknown) => {
    const validate = ajv.compile(schema);
    const ok = validate(data);
    expect(ok ? null : validate.errors).toBeNull();
  };
  const component = (name: string) => ({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` });
  const operation = (method: string, path: string) => document.paths[path]![method]!;
  const requestSchema = (method: string, path: string) => operation(method, path).requestBody!.content['application/json']!.schema as object;
  const activated = async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    return { citizen, device };
  };

  beforeAll(async () => {
    app = await listeningApp(dialect);
    const response = await fetch(`${app.url}/openapi.json`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await response.json()) as OpenApiDocument;
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema({ $id: DOCUMENT_ID, components: document.components });
    const ca = await (await fetch(`${app.url}/api/v1/device/ca/certificate`)).text();
    client = new MobileIdClient({ baseUrl: app.url, trustedCa: ca });
  });
  afterAll(async () => app.close());

  it('is an OpenAPI 3.1 document: every path has operations with responses, every $ref resolves, schemas compile', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: app.config.publicUrl }]);
    expect(document.info.title).toBeTruthy();
    const paths = Object.keys(document.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/auth/sessions', '/api/v1/auth/sessions/{id}', '/api/v1/sign/sessions', '/healthz', '/api/v1/offices', '/api/v1/device/requests/pending', '/api/v1/enrollment/enrollments']));
    // internal routes and OpenID Connect (described by its discovery document) stay out
    expect(paths.filter((p) => /\/dev\/|well-known|signin|^\/app|^\/console|\/web\//.test(p))).toEqual([]);
    const operationIds = new Set<string>();
    const tagNames = TAGS.map((t) => t.name as string);
    for (const [path, operations] of Object.entries(document.paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      expect(Object.keys(operations).length, path).toBeGreaterThan(0);
      for (const [method, op] of Object.entries(operations)) {
        expect(['get', 'put', 'post', 'delete', 'patch']).toContain(method);
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        expect(Object.keys(op.responses).some((status) => status.startsWith('2')), `${method} ${path}`).toBe(true);
        expect(tagNames).toContain(op.tags[0]);
        expect(operationIds.has(op.operationId)).toBe(false);
        operationIds.add(op.operationId);
        // every path parameter is declared
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
          expect(op.parameters?.some((p) => p.in === 'path' && p.name === name && p.required), `${method} ${path} {${name}}`).toBe(true);
        }
        for (const [name] of op.security.flatMap((s) => Object.entries(s))) expect(document.components.securitySchemes).toHaveProperty(name);
      }
    }
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      expect(resolvePointer(document, ref), ref).toBeDefined();
    }
    for (const [name, schema] of Object.entries(document.components.schemas)) expect(() => ajv.compile(schema as object), name).not.toThrow();
  });

  it('names the stable error codes of the Mobile-ID operations', () => {
    const start = operation('post', '/api/v1/auth/sessions');
    expect(start.security).toEqual([{}, { clientAssertion: [] }]);
    expect(start.responses['401']!['x-error-codes']!.map((e) => e.code)).toEqual(['client_assertion_invalid', 'client_assertion_required']);
    expect(start.responses['201']).toBeDefined();
    expect(start.responses['409']!['x-error-codes']!.map((e) => e.code)).toContain('auth_session_already_pending');
    expect(start.responses['429']!['x-error-codes']!.map((e) => e.code)).toEqual(expect.arrayContaining(['auth_cooldown', 'rate_limited']));
    const read = operation('get', '/api/v1/auth/sessions/{id}');
    expect(read.security).toEqual([{ sessionToken: [] }]);
    expect(read.parameters?.find((p) => p.name === 'timeoutMs')).toMatchObject({ in: 'query', schema: { maximum: 30_000 } });
    expect(read.responses['404']!['x-error-codes']!.map((e) => e.code)).toEqual(['auth_session_not_found']);
  });

  it('serves a reference page that needs no script and lists every operation', async () => {
    const response = await fetch(`${app.url}/docs/api`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>\s*<html lang="en">/);
    expect(html).not.toMatch(/<script|\son[a-z]+=|style="/i);
    for (const operations of Object.values(document.paths)) for (const op of Object.values(operations)) expect(html).toContain(`id="${op.operationId}"`);
    expect(html).toContain('<code>auth_session_already_pending</code>');
    expect(html).toContain('<code>/api/v1/auth/sessions/{id}</code>');
    const css = await fetch(`${app.url}/docs/api/reference.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('authenticates: code shown, confirmed on the phone, result verified; bodies and answers match the document', async () => {
    const { citizen, device } = await activated();
    const request = { ...SERVICE, pinfl: citizen.pinfl, reason: 'Kirish' };
    expectValid(requestSchema('post', '/api/v1/auth/sessions'), authenticationBody(request));
    const started = await client.startAuthentication(request);
    expectValid(component('StartedSession'), started);
    expect(started.verificationCode).toMatch(/^\d{4}$/);
    const result = client.waitForResult(started);
    const pending = (await device.pending())!;
    expect(pending.verificationCodeChoices).toContain(started.verificationCode);
    await device.confirm(pending, started.verificationCode!);
    const view = await result;
    expectValid(component('SessionView'), view);
    expect(view).toMatchObject({ state: 'complete', result: 'OK', kind: 'auth', subject: { pinfl: citizen.pinfl } });
    const verified = await client.verifyResult(view, { serviceId: SERVICE.serviceId });
    expect(verified.pinfl).toBe(citizen.pinfl);
    expect(verified.payload).toMatchObject({ sid: started.sessionId, aud: SERVICE.serviceId });
    expect(verified.certificate.raw.equals(Buffer.from(device.state.authCertificate.replace(/-----[^-]+-----|\s/g, ''), 'base64'))).toBe(true);

    // what must not verify: another service, a changed payload, a CA that did not issue the key
    await expect(client.verifyResult(view, { serviceId: 'other.uz' })).rejects.toThrow(MobileIdVerificationError);
    const [h, p, s] = view.jws!.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), aud: 'other.uz' })).toString('base64url');
    await expect(client.verifyResult({ ...view, jws: `${h}.${forged}.${s}` }, { serviceId: 'other.uz' })).rejects.toThrow(/bad signature/);
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const foreign = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Not Tasdiq', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000), keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
    const untrusting = new MobileIdClient({ baseUrl: app.url, trustedCa: foreign.toString('pem') });
    await expect(untrusting.verifyResult(view, { serviceId: SERVICE.serviceId })).rejects.toThrow(/not issued by the trusted CA/);
  });

  it('cancels a session through the typed client: the answer matches the document and the phone has nothing left to confirm', async () => {
    const { citizen, device } = await activated();
    const started = await client.startAuthentication({ ...SERVICE, pinfl: citizen.pinfl });
    expect(await device.pending()).toMatchObject({ sessionId: started.sessionId });
    const cancelled = await client.cancel(started);
    expectValid(component('SessionView'), cancelled);
    expect(cancelled).toMatchObject({ state: 'complete', result: 'CANCELLED' });
    expect(await device.pending()).toBeNull();
    // the citizen can be asked again at once, and cancelling what is over changes nothing
    const again = await client.startAuthentication({ ...SERVICE, pinfl: citizen.pinfl });
    expect(again.state).toBe('pending');
    expect((await client.cancel(started)).result).toBe('CANCELLED');
    expect(Object.keys(document.paths['/api/v1/auth/sessions/{id}']!)).toContain('delete');
  });

  it("signs the relying party's own challenge hash when it gives one, which only app mode accepts", async () => {
    const { citizen, device } = await activated();
    const challengeHash = createHash('sha256').update(randomBytes(32)).digest('base64url');
    const started = await client.startAuthentication({ ...SERVICE, pinfl: citizen.pinfl, challengeHash });
    const result = client.waitForResult(started);
    const pending = (await device.pending())!;
    await device.confirm(pending, started.verificationCode!);
    const view = await result;
    const verified = await client.verifyResult(view, { serviceId: SERVICE.serviceId, challengeHash });
    expect(verified.payload).toMatchObject({ hash: challengeHash, hashAlg: 'SHA-256' });
    await expect(client.verifyResult(view, { serviceId: SERVICE.serviceId, challengeHash: 'B'.repeat(43) })).rejects.toThrow(/another challenge/);
    const sms = await fetch(`${app.url}/api/v1/auth/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...SERVICE, pinfl: citizen.pinfl, mode: 'sms_otp', origin: 'my.gov.uz', hash: challengeHash }),
    });
    expect(sms.status).toBe(400);
    expect(((await sms.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('body.hash');
  });

  it('reports USER_REFUSED, which never verifies', async () => {
    const { citizen, device } = await activated();
    const started = await client.startAuthentication({ ...SERVICE, phone: citizen.phone });
    const result = client.waitForResult(started);
    await device.refuse((await device.pending())!);
    const view = await result;
    expectValid(component('SessionView'), view);
    expect(view).toMatchObject({ state: 'complete', result: 'USER_REFUSED', jws: null, subject: null });
    await expect(client.verifyResult(view, { serviceId: SERVICE.serviceId })).rejects.toThrow(MobileIdVerificationError);
  });

  it('signs a document: the JWS is bound to its hash and verifies to the Tasdiq CA', async () => {
    const { citizen, device } = await activated();
    const bytes = new TextEncoder().encode('Shartnoma 42: ijara, 12 oy');
    const request = { ...SERVICE, pinfl: citizen.pinfl, document: bytes, documentName: 'shartnoma-42.pdf' };
    expectValid(requestSchema('post', '/api/v1/sign/sessions'), signingBody(request));
    const started = await client.startSigning(request);
    expectValid(component('StartedSession'), started);
    const pending = (await device.pending())!;
    expect(pending).toMatchObject({ kind: 'sign', documentHash: documentHash(bytes), documentName: 'shartnoma-42.pdf' });
    await device.confirm(pending, started.verificationCode ?? undefined);
    const view: MobileIdSessionView = await client.waitForResult(started, { timeoutMs: 10_000 });
    expectValid(component('SessionView'), view);
    const verified = await client.verifyResult(view, { serviceId: SERVICE.serviceId, documentHash: documentHash(bytes) });
    expect(verified.payload).toMatchObject({ hash: documentHash(bytes), hashAlg: 'SHA-256', doc: 'shartnoma-42.pdf' });
    expect(verified.certificate.raw.equals(Buffer.from(device.state.signCertificate.replace(/-----[^-]+-----|\s/g, ''), 'base64'))).toBe(true);
    await expect(client.verifyResult(view, { serviceId: SERVICE.serviceId, documentHash: documentHash(new TextEncoder().encode('other')) })).rejects.toThrow(/another document/);
  });

  it('confirmation_message: the citizen confirms the text, which the JWS carries', async () => {
    const { citizen, device } = await activated();
    const request = { ...SERVICE, pinfl: citizen.pinfl, reason: 'Navbat A-17', interaction: 'confirmation_message' as const };
    expectValid(requestSchema('post', '/api/v1/auth/sessions'), authenticationBody(request));
    const started = await client.startAuthentication(request);
    expectValid(component('StartedSession'), started);
    expect(started.interaction).toBe('confirmation_message');
    const pending = (await device.pending())! as Awaited<ReturnType<DeviceClient['pending']>> & { confirmationMessage?: string };
    expect(pending.confirmationMessage).toBe('Navbat A-17');
    await device.confirm(pending);
    const view = await client.waitForResult(started, { timeoutMs: 10_000 });
    expect((await client.verifyResult(view, { serviceId: SERVICE.serviceId, message: 'Navbat A-17' })).payload).toMatchObject({ msg: 'Navbat A-17' });
    await expect(client.verifyResult(view, { serviceId: SERVICE.serviceId, message: 'Navbat B-03' })).rejects.toThrow(/another confirmation message/);
  });

  it('waitForResult gives up after its timeout and stops when aborted', async () => {
    const { citizen } = await activated();
    const started = await client.startAuthentication({ ...SERVICE, pinfl: citizen.pinfl });
    const began = Date.now();
    await expect(client.waitForResult(started, { timeoutMs: 300 })).rejects.toThrow(MobileIdTimeoutError);
    expect(Date.now() - began).toBeLessThan(5_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user left')), 200);
    await expect(client.waitForResult(started, { signal: controller.signal })).rejects.toThrow(/user left|abort/i);
  });

  it('answers bad input with a problem the document lists for that status', async () => {
    const started = await fetch(`${app.url}/api/v1/auth/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...SERVICE, pinfl: '123', extra: 1 }) });
    expect(started.status).toBe(400);
    const problem = (await started.json()) as { code: string };
    expectValid(component('Problem'), problem);
    expect(operation('post', '/api/v1/auth/sessions').responses['400']!['x-error-codes']!.map((e) => e.code)).toContain(problem.code);
    const error = await client.getSession({ sessionId: `as_${'A'.repeat(22)}`, sessionToken: 'B'.repeat(43) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TasdiqApiError);
    expect(operation('get', '/api/v1/auth/sessions/{id}').responses[String((error as TasdiqApiError).status)]!['x-error-codes']!.map((e) => e.code)).toContain((error as TasdiqApiError).code);
  });
});
