import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoRegistry,
  demoRegistryCitizens,
  HttpRegistry,
  loadRegistryFile,
  RegistryUnavailableError,
  verifySignedRequest,
  type RegistryCitizen,
} from '../../src/identity/index.ts';

const people = demoRegistryCitizens(20);
const alice = people[0]!;
const SECRET = 'registry-test-secret';

interface StandIn {
  app: FastifyInstance;
  url: string;
  attempts: Map<string, number>;
}

/**
 * A local stand-in for the state registry, a real HTTP peer on loopback. It checks the HMAC
 * signature when given a secret, and misbehaves on request for particular PINFLs.
 */
async function standIn(options: { secret?: string; https?: { key: Buffer; cert: Buffer; ca: Buffer } } = {}): Promise<StandIn> {
  // Typed as a plain server: the routes below do not care whether TLS carries them.
  const app = (options.https ? Fastify({ https: { ...options.https, requestCert: true, rejectUnauthorized: true } }) : Fastify()) as unknown as FastifyInstance;
  const attempts = new Map<string, number>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/api/v1/lookup', async (request, reply) => {
    const raw = request.body as string;
    if (options.secret && !verifySignedRequest(options.secret, { method: 'POST', path: '/api/v1/lookup', headers: request.headers, body: raw }, Date.now())) {
      return reply.code(401).send({ error: 'bad signature' });
    }
    const query = JSON.parse(raw) as { pinfl?: string; document?: { series: string; number: string } };
    const key = query.pinfl ?? `${query.document?.series}${query.document?.number}`;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (key === people[1]!.pinfl) {
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    if (key === people[2]!.pinfl && n < 3) return reply.code(503).send({ error: 'busy' });
    if (key === people[3]!.pinfl) return reply.code(200).send('not json');
    const found = people.find((p) => p.pinfl === query.pinfl || p.documents.some((d) => d.series === query.document?.series && d.number === query.document?.number));
    if (!found) return reply.code(404).send({ error: 'unknown' });
    return { citizen: found };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `${url}/api`, attempts };
}

describe('built-in registry', () => {
  it('finds demo citizens by PINFL and by document', async () => {
    const registry = demoRegistry();
    const first = demoRegistryCitizens()[0]!;
    expect(await registry.findByPinfl(first.pinfl)).toEqual(first);
    const card = first.documents[0]!;
    expect(await registry.findByDocument(card.series.toLowerCase(), ` ${card.number} `)).toEqual(first);
    expect(await registry.findByPinfl('31505900012347')).toBeUndefined();
  });

  it('loads a registry file and refuses one with an invalid PINFL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-registry-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ citizens: people.slice(0, 5) }));
      expect(loadRegistryFile(good).size).toBe(5);
      const bad = join(dir, 'bad.json');
      const broken: RegistryCitizen = { ...alice, pinfl: alice.pinfl.slice(0, 13) + String((Number(alice.pinfl[13]) + 1) % 10) };
      writeFileSync(bad, JSON.stringify({ citizens: [broken] }));
      expect(() => loadRegistryFile(bad)).toThrow(/check digit/);
      writeFileSync(bad, JSON.stringify([alice]));
      expect(() => loadRegistryFile(bad)).toThrow(/expected \{ "citizens"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTP registry connector with signed requests', () => {
  let server: StandIn;
  beforeAll(async () => {
    server = await standIn({ secret: SECRET });
  });
  afterAll(async () => server?.app.close());

  const connector = (overrides: Partial<ConstructorParameters<typeof HttpRegistry>[0]> = {}) =>
    new HttpRegistry({ baseUrl: server.url, allowPlainHttp: true, hmac: { keyId: 'tasdiq', secret: SECRET }, timeoutMs: 150, retries: 2, backoffMs: 10, ...overrides });

  it('looks up by PINFL and document, and reads 404 as unknown', async () => {
    const registry = connector();
    expect(await registry.findByPinfl(alice.pinfl)).toEqual(alice);
    expect(await registry.findByDocument(alice.documents[0]!.series, alice.documents[0]!.number)).toEqual(alice);
    expect(await registry.findByPinfl('31505900012347')).toBeUndefined();
    registry.close();
  });

  it('retries 503 with backoff and succeeds on the third attempt', async () => {
    const registry = connector();
    expect(await registry.findByPinfl(people[2]!.pinfl)).toEqual(people[2]);
    expect(server.attempts.get(people[2]!.pinfl)).toBe(3);
    registry.close();
  });

  it('gives up after its retries when the registry is too slow', async () => {
    const registry = connector();
    const started = Date.now();
    await expect(registry.findByPinfl(people[1]!.pinfl)).rejects.toBeInstanceOf(RegistryUnavailableError);
    expect(server.attempts.get(people[1]!.pinfl)).toBe(3);
    expect(Date.now() - started).toBeLessThan(1500);
    registry.close();
  });

  it('does not retry a refusal, and refuses garbage answers', async () => {
    const wrongKey = connector({ hmac: { keyId: 'tasdiq', secret: 'wrong' } });
    await expect(wrongKey.findByPinfl(alice.pinfl)).rejects.toThrow(/refused the lookup with status 401/);
    wrongKey.close();
    const registry = connector();
    await expect(registry.findByPinfl(people[3]!.pinfl)).rejects.toThrow(/not JSON/);
    expect(server.attempts.get(people[3]!.pinfl)).toBe(1);
    registry.close();
  });

  it('reports a registry that is down', async () => {
    const dead = await standIn();
    const url = dead.url;
    await dead.app.close();
    const registry = new HttpRegistry({ baseUrl: url, allowPlainHttp: true, hmac: { keyId: 'k', secret: 's' }, timeoutMs: 200, retries: 1, backoffMs: 5 });
    await expect(registry.findByPinfl(alice.pinfl)).rejects.toThrow(/did not answer after 2 attempts/);
    registry.close();
  });

  it('refuses to be built without authentication', () => {
    expect(() => new HttpRegistry({ baseUrl: server.url, allowPlainHttp: true })).toThrow(/mutual TLS or an HMAC key/);
  });

  it('refuses a plain http registry unless allowed (development), even with signed requests', () => {
    expect(() => new HttpRegistry({ baseUrl: server.url, hmac: { keyId: 'tasdiq', secret: SECRET } })).toThrow(/must be https/);
    expect(() => new HttpRegistry({ baseUrl: server.url, allowPlainHttp: false, hmac: { keyId: 'tasdiq', secret: SECRET } })).toThrow(/must be https/);
  });
});

describe('HTTP registry connector with mutual TLS', () => {
  let dir: string;
  let server: StandIn;

  function openssl(...args: string[]) {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasdiq-mtls-'));
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Test Registry CA');
    for (const [name, extra] of [['server', 'subjectAltName=IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(join(dir, `${name}.ext`), `${extra}\n`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
    }
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '1', '-subj', '/CN=rogue');
    server = await standIn({ https: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')), ca: readFileSync(join(dir, 'ca.pem')) } });
  });
  afterAll(async () => {
    await server?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('looks up over mutual TLS with the client certificate', async () => {
    const registry = new HttpRegistry({
      baseUrl: server.url,
      tls: { certPath: join(dir, 'client.pem'), keyPath: join(dir, 'client.key'), caPath: join(dir, 'ca.pem') },
      retries: 0,
    });
    expect(server.url.startsWith('https://')).toBe(true);
    expect(await registry.findByPinfl(alice.pinfl)).toEqual(alice);
    registry.close();
  });

  it('cannot reach the registry with a certificate the registry does not trust', async () => {
    const registry = new HttpRegistry({
      baseUrl: server.url,
      tls: { certPath: join(dir, 'rogue.pem'), keyPath: join(dir, 'rogue.key'), caPath: join(dir, 'ca.pem') },
      retries: 0,
    });
    await expect(registry.findByPinfl(alice.pinfl)).rejects.toBeInstanceOf(RegistryUnavailableError);
    registry.close();
  });
});
