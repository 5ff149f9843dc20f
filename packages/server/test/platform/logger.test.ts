import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger, maskUrl, scrubMessage } from '../../src/platform/logger.ts';
import { officesModule } from '../../src/offices/index.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';

const PINFL = '31234567890123';
const PHONE = '+998901234567';

/** A logger writing into memory, one parsed object per line. */
function memoryLogger(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join(''), last: () => JSON.parse(lines.at(-1)!) as Record<string, unknown> };
}

/** Every string value inside an object: the secrets a case logs. */
function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(leaves);
}

describe('log redaction', () => {
  it.each([
    ['top-level secrets', { password: 'hunter2-secret', token: 'tok-secret-1', pinfl: PINFL }],
    ['nested three deep', { a: { b: { phone: PHONE, code: '482913' } } }],
    ['inside arrays', { items: [{ pinfl: PINFL }, { ok: 1, pinfl: PINFL }] }],
    ['header names', { headers: { Authorization: 'Bearer eyJsecret', cookie: 'sid=secret-cookie', 'x-api-key': 'key-secret-9' } }],
    ['token spellings', { sessionToken: 'tok-secret-2', session_token: 'tok-secret-3', 'Session-Token': 'tok-secret-4', activation_code: 'ACT-SECRET-5', activationCode: 'ACT-SECRET-6' }],
    ['key spellings', { apiKey: 'key-secret-7', client_secret: 'cs-secret-8', id_token_hint: 'hint-secret', code_verifier: 'cv-secret', login_hint: PHONE, recipient: PHONE }],
  ])('censors %s', (_case, object) => {
    const log = memoryLogger();
    log.logger.info(object, 'something happened');
    const written = log.text();
    for (const secret of leaves(object)) expect(written, secret).not.toContain(secret);
    expect(written).toContain('[redacted]');
    expect(written).toContain('something happened');
  });

  it('keeps what is not secret, and opaque ids', () => {
    const log = memoryLogger();
    log.logger.info({ citizenId: 'cit_123', sessionId: 'as_abc', tokenId: 'tk_1', status: 404, nested: { method: 'GET' } }, 'ok');
    expect(log.last()).toMatchObject({ citizenId: 'cit_123', sessionId: 'as_abc', tokenId: 'tk_1', status: 404, nested: { method: 'GET' } });
  });

  it('censors child-logger bindings and masks URLs held under any url key', () => {
    const log = memoryLogger();
    log.logger.child({ token: 'tok-secret-child' }).info({ target: { url: `/cb?code=abc&pinfl=${PINFL}&lang=ru` } }, 'redirect');
    const line = log.last();
    expect(line.token).toBe('[redacted]');
    expect(line.target).toEqual({ url: '/cb?code=%5Bredacted%5D&pinfl=%5Bredacted%5D&lang=ru' });
  });

  it('bounds what it walks: cycles, depth and long arrays', () => {
    const log = memoryLogger();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { pinfl: PINFL };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    log.logger.info({ cyclic, deep, many: Array.from({ length: 500 }, (_, i) => ({ i, phone: PHONE })) }, 'big');
    const written = log.text();
    expect(written).toContain('[circular]');
    expect(written).toContain('[truncated]');
    expect(written).toContain('[400 more]');
    expect(written).not.toContain(PINFL);
    expect(written).not.toContain(PHONE);
  });

  it('reduces an error to type, scrubbed message, code and stack, dropping driver fields', () => {
    const log = memoryLogger();
    const error = Object.assign(new Error(`duplicate key value violates unique constraint "phone_bindings_active_phone_key"`), {
      code: '23505',
      detail: `Key (active_phone)=(${PHONE}) already exists.`,
      where: `SQL statement "insert ... ${PINFL}"`,
      parameters: [PINFL, PHONE],
      query: 'insert into ...',
    });
    log.logger.error({ err: error, context: { cause: error } }, 'failed');
    const line = log.last();
    expect(line.err).toEqual({ type: 'Error', message: error.message, code: '23505', stack: expect.stringContaining('duplicate key value') });
    const written = log.text();
    expect(written).not.toContain(PINFL);
    expect(written).not.toContain(PHONE);
    expect(written).not.toContain('parameters');
  });

  it('scrubs values a driver copies into its message', () => {
    expect(scrubMessage(`Key (phone)=(${PHONE}) already exists.`)).toBe('Key (phone)=([redacted]) already exists.');
    expect(scrubMessage(`Failing row contains (cit_1, ${PINFL}, X).`)).toBe('Failing row contains ([redacted]).');
    expect(scrubMessage('invalid input syntax for type bigint: "12ab"')).toBe('invalid input syntax for type bigint: "[redacted]"');
    expect(scrubMessage(`no citizen with PINFL ${PINFL}`)).toBe('no citizen with PINFL [redacted]');
    // Request ids and ports survive.
    expect(scrubMessage('request 3a14fea7-ad86-45e1-8983-94301b5a0c1d failed on 127.0.0.1:5432')).toBe('request 3a14fea7-ad86-45e1-8983-94301b5a0c1d failed on 127.0.0.1:5432');
  });

  it.each([
    'id_token_hint',
    'request',
    'request_uri',
    'login_hint',
    'login_hint_token',
    'code_verifier',
    'client_assertion',
    'binding_message',
    'recipient',
    'code',
    'state',
    'phone',
    'pinfl',
    'access_token',
    'session_token',
  ])('masks the %s query parameter in logged URLs', (key) => {
    expect(maskUrl(`/oidc/auth?${key}=s3cr3t-value&client_id=portal`)).toBe(`/oidc/auth?${key}=%5Bredacted%5D&client_id=portal`);
  });
});

describe.each(testDialects())('a database error through the 500 handler on %s', (dialect) => {
  let database: TestDatabase;
  let app: App;
  const log = memoryLogger();
  // Violates the primary key and the kind check with personal data in the row.
  const failing: TasdiqModule = {
    name: 'failing',
    routes: async (http, context) => {
      const row = (id: string, kind: string) => ({ id, kind: kind as 'notary', region: 'UZ-TK', name_uz_latn: PINFL, name_uz_cyrl: 'а', name_ru: 'а', name_en: PHONE, address: 'DEMO', active: 1, created_at: 1 });
      http.post('/duplicate', async () => {
        await context.db.insertInto('offices').values(row(PHONE, 'notary')).execute();
        await context.db.insertInto('offices').values(row(PHONE, 'notary')).execute();
        return {};
      });
      http.post('/check', async () => {
        await context.db.insertInto('offices').values(row('chk-1', `bogus-${PINFL}`)).execute();
        return {};
      });
    },
  };
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    app = await buildApp({ config: loadConfig({}, { logLevel: 'info' }), database, logger: log.logger, modules: [officesModule, failing], migrate: false, background: false });
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('logs the failure without the row values the driver reported', async () => {
    for (const url of ['/duplicate', '/check']) {
      const res = await app.http.inject({ method: 'POST', url });
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain(PINFL);
    }
    const failures = log.lines.map((l) => JSON.parse(l) as { msg: string; err?: { code?: string; message: string } }).filter((l) => l.msg === 'request failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]!.err?.message).toMatch(/unique|UNIQUE/);
    const written = log.text();
    expect(written).not.toContain(PINFL);
    expect(written).not.toContain(PHONE);
    expect(written).not.toContain(PHONE.slice(1));
  });
});

describe("a request's logger", () => {
  it('writes through a parent that cannot say which levels it writes', async () => {
    const { LazyChildLogger } = await import('../../src/platform/logger.ts');
    const written: unknown[][] = [];
    const plain = { level: 'info', info: (...args: unknown[]) => void written.push(args) } as unknown as import('fastify').FastifyBaseLogger;
    const parent = { ...plain, child: () => plain } as unknown as import('fastify').FastifyBaseLogger;
    new LazyChildLogger(parent, { reqId: 'r1' }).info({ a: 1 }, 'kept');
    expect(written).toEqual([[{ a: 1 }, 'kept']]);
  });

  it('is made on the first line it writes at an enabled level, carries the request id, and costs nothing otherwise', async () => {
    const { createHttpServer } = await import('../../src/platform/http.ts');
    const { createMetrics } = await import('../../src/platform/metrics.ts');
    const { logger, lines, last } = memoryLogger('info');
    // Counts the children made below the root (each request's logger is one).
    const child = logger.child.bind(logger);
    let made = 0;
    logger.child = ((bindings, options) => {
      made++;
      return child(bindings, options);
    }) as typeof logger.child;
    const app = await createHttpServer({ logger, metrics: createMetrics(), rateLimitPerMinute: 1000 });
    app.get('/quiet', async (request) => {
      request.log.debug({ detail: 'not at info' }, 'below the level');
      return { ok: true };
    });
    app.get('/loud', async (request) => {
      request.log.info({ pinfl: PINFL }, 'hello');
      request.log.warn('again');
      return { ok: true };
    });
    await app.ready();
    const atStart = made;
    try {
      for (let i = 0; i < 5; i++) expect((await app.inject('/quiet')).statusCode).toBe(200);
      expect(made - atStart).toBe(0);
      expect(lines).toEqual([]);
      const response = await app.inject({ url: '/loud', headers: { 'x-request-id': 'req-lazy-logger-1' } });
      expect(response.statusCode).toBe(200);
      expect(made - atStart).toBe(1);
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[0]!)).toMatchObject({ reqId: 'req-lazy-logger-1', msg: 'hello', pinfl: '[redacted]' });
      expect(last()).toMatchObject({ reqId: 'req-lazy-logger-1', msg: 'again', level: 40 });
      // A refused request is still logged with its id.
      expect((await app.inject({ url: '/nowhere', headers: { 'x-request-id': 'req-lazy-logger-2' } })).statusCode).toBe(404);
      expect(last()).toMatchObject({ reqId: 'req-lazy-logger-2', status: 404, msg: 'request completed' });
    } finally {
      await app.close();
    }
  });
});
