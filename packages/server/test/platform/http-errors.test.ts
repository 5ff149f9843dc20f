import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { MODULES } from '../../src/modules.ts';
import { isDatabaseUnavailable, openDatabase } from '../../src/platform/db/index.ts';
import { healthModule } from '../../src/health/routes.ts';
import { officesModule } from '../../src/offices/index.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase, testDialects, waitForLockWait, type TestDatabase } from '../support/databases.ts';

/** A module with a validated JSON body, to drive the body-parsing error paths. */
const echo: TasdiqModule = {
  name: 'echo',
  routes: async (app) => {
    app.post(
      '/echo',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string', minLength: 1, maxLength: 10 } },
          },
        },
      },
      async (request) => request.body,
    );
    app.post(
      '/measure',
      { schema: { body: { type: 'object', additionalProperties: false, properties: { items: { type: 'array', items: { type: 'number' } }, at: { type: 'number' } } } } },
      async (request) => request.body,
    );
    // No schema: only the platform's own check stands between `1e999` and the handler.
    app.post('/unchecked', async (request) => ({ finite: Number.isFinite((request.body as { at?: number }).at) }));
    app.get<{ Querystring: { n?: number } }>(
      '/closed',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', minimum: 0, maximum: 10 } } } } },
      async (request) => ({ n: request.query.n ?? null, locale: request.locale }),
    );
    app.get('/boom', async () => {
      throw new Error('secret internal detail');
    });
  },
};

describe('HTTP error model', () => {
  let database: TestDatabase;
  let app: App;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    app = await buildApp({
      config: loadConfig({}, { logLevel: 'silent' }),
      database,
      logger: createLogger('silent'),
      modules: [...MODULES, echo],
    });
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  const post = (payload: string, contentType = 'application/json') =>
    app.http.inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType, 'accept-language': 'en' }, payload });

  it.each([
    ['truncated JSON', '{"name":', 'application/json', 400, 'malformed_body'],
    ['empty JSON body', '', 'application/json', 400, 'malformed_body'],
    ['missing field', '{}', 'application/json', 400, 'validation_failed'],
    ['unknown field', '{"name":"a","admin":true}', 'application/json', 400, 'validation_failed'],
    ['too long', `{"name":"${'x'.repeat(11)}"}`, 'application/json', 400, 'validation_failed'],
    ['prototype pollution', '{"name":"a","__proto__":{"admin":true}}', 'application/json', 400, 'malformed_body'],
    ['wrong media type', 'name=a', 'text/csv', 415, 'unsupported_media_type'],
    ['too large', `{"name":"${'x'.repeat(1_100_000)}"}`, 'application/json', 413, 'payload_too_large'],
  ])('%s → %i %s', async (_case, payload, contentType, status, code) => {
    const res = await post(payload, contentType);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe(code);
  });

  it('names the offending field', async () => {
    const res = await post('{"name":"a","admin":true}');
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'body.admin', code: 'additionalProperties' })]);
  });

  // The validator coerces `Infinity` and `1e999` to numbers that pass `integer` and its bounds.
  it.each(['Infinity', '-Infinity', '1e999', '-1e999', 'NaN'])('refuses limit=%s with 400 validation_failed, never 500', async (value) => {
    const res = await app.http.inject({ url: `/api/v1/offices?limit=${encodeURIComponent(value)}`, headers: { 'accept-language': 'en' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'querystring.limit' })] });
  });

  it.each(['Infinity', '1e999', '-Infinity'])('refuses a non-finite number in any query (n=%s) and in a JSON body', async (value) => {
    const query = await app.http.inject(`/closed?n=${value}`);
    expect(query.statusCode).toBe(400);
    expect(query.json().code).toBe('validation_failed');
    const body = await app.http.inject({ method: 'POST', url: '/measure', headers: { 'content-type': 'application/json' }, payload: `{"items":[1,2,${value === 'Infinity' ? '1e999' : value === '-Infinity' ? '-1e999' : value}]}` });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'body.items.2' })] });
    const unchecked = await app.http.inject({ method: 'POST', url: '/unchecked', headers: { 'content-type': 'application/json' }, payload: `{"at":${value.replace('Infinity', '1e999')}}` });
    expect(unchecked.statusCode).toBe(400);
    expect(unchecked.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'body.at', code: 'type', message: 'must be a finite number' }] });
    // Finite numbers pass untouched.
    const fine = await app.http.inject({ method: 'POST', url: '/measure', headers: { 'content-type': 'application/json' }, payload: '{"items":[1,2.5,-3e10],"at":0}' });
    expect(fine.statusCode).toBe(200);
    expect(fine.json()).toEqual({ items: [1, 2.5, -3e10], at: 0 });
  });

  it.each([
    ['a NUL character', '{"name":"a\\u0000b"}', 'body.name'],
    ['a lone surrogate half', '{"name":"\\ud800"}', 'body.name'],
    // The key is named escaped: the answer does not carry the character it refuses.
    ['a NUL character in a key', '{"items":[1],"a\\u0000":1}', 'body.a\\u0000'],
  ])('refuses text with %s (PostgreSQL could not store it) with 400 validation_failed', async (_case, payload, field) => {
    const res = await app.http.inject({ method: 'POST', url: _case.includes('key') ? '/unchecked' : '/echo', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ field, code: 'type', message: 'must be text without NUL characters or broken Unicode' }] });
  });

  it('refuses a NUL character in a query or a path', async () => {
    const query = await app.http.inject('/api/v1/offices?lang=%00');
    expect(query.statusCode).toBe(400);
    expect(query.json().code).toBe('validation_failed');
    const path = await app.http.inject('/api/v1/offices/a%00b');
    expect(path.statusCode).toBe(400);
    expect(path.json()).toMatchObject({ code: 'validation_failed' });
  });

  it('bounds a long poll: timeoutMs=Infinity is refused, not waited on', async () => {
    const res = await app.http.inject('/api/v1/auth/sessions/as_aaaaaaaaaaaaaaaaaaaaaa?timeoutMs=Infinity');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'querystring.timeoutMs' })] });
  });

  it('accepts ?lang= on every route, closed query schemas included, and answers in that language', async () => {
    const res = await app.http.inject('/closed?n=3&lang=ru');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ n: 3, locale: 'ru' });
    const refused = await app.http.inject('/closed?n=30&lang=uz-Cyrl');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().title).toBe('Сўров маълумотлари нотўғри');
    // Other unknown parameters are still refused, and so is an absurd lang.
    expect((await app.http.inject('/closed?colour=red')).statusCode).toBe(400);
    expect((await app.http.inject(`/closed?lang=${'x'.repeat(100)}`)).statusCode).toBe(400);
  });

  it('answers a path with broken percent-encoding with a problem that does not echo the URL', async () => {
    const res = await app.http.inject({ url: '/api/v1/offices/%E0%A4%A', headers: { 'accept-language': 'ru' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.json()).toMatchObject({ code: 'malformed_url', title: 'Некорректный адрес запроса', requestId: res.headers['x-request-id'] });
    expect(res.body).not.toContain('%E0');
  });

  it('answers an unexpected failure with a 500 that leaks nothing but the request id', async () => {
    const res = await app.http.inject({ url: '/boom', headers: { 'accept-language': 'ru' } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.json()).toMatchObject({ code: 'internal_error', requestId: res.headers['x-request-id'] });
    expect(res.json().title).toMatch(/Внутренняя ошибка/);
  });
});

describe('rate limits shared through Redis', () => {
  const redisUrl = inject('redisUrl');
  it.skipIf(!redisUrl)('enforces one limit across two service instances', async () => {
    const namespace = `tasdiq-test-${randomBytes(4).toString('hex')}-`;
    const databases = [await createTestDatabase('sqlite'), await createTestDatabase('sqlite')];
    const config = loadConfig({}, { logLevel: 'silent', rateLimitPerMinute: 4, redisUrl: redisUrl! });
    const apps = await Promise.all(
      databases.map((database) => buildApp({ config, database, logger: createLogger('silent'), demo: true, rateLimitNamespace: namespace })),
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await apps[i % 2]!.http.inject('/api/v1/offices')).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
      await Promise.all(databases.map((d) => d.dispose()));
    }
  });
});

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a database outage answers 503 with Retry-After, not 500', () => {
  it('PostgreSQL refusing connections', async () => {
    const database = openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/test` });
    const app = await buildApp({
      config: loadConfig({}, { logLevel: 'silent' }),
      database,
      logger: createLogger('silent'),
      modules: [healthModule, officesModule],
      migrate: false,
      background: false,
    });
    try {
      const res = await app.http.inject({ url: '/api/v1/offices', headers: { 'accept-language': 'en' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'service_unavailable', title: 'The service is temporarily unavailable' });
      expect(res.headers['retry-after']).toBe('5');
      expect((await app.http.inject('/readyz')).statusCode).toBe(503);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('SQLite locked by another writer past its busy timeout', async () => {
    const database = await createTestDatabase('sqlite');
    const writer: TasdiqModule = {
      name: 'writer',
      routes: async (app, context) => {
        app.post('/write', async () => {
          await context.db
            .insertInto('offices')
            .values({ id: 'busy-1', kind: 'notary', region: 'UZ-TK', name_uz_latn: 'a', name_uz_cyrl: 'а', name_ru: 'а', name_en: 'a', address: 'DEMO', active: 1, created_at: 1 })
            .execute();
          return { written: true };
        });
      },
    };
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'silent' }), database, logger: createLogger('silent'), modules: [officesModule, writer], migrate: false, background: false });
    const { DatabaseSync } = await import('node:sqlite');
    const other = new DatabaseSync(database.location);
    try {
      other.exec('BEGIN IMMEDIATE');
      const res = await app.http.inject({ method: 'POST', url: '/write' });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('service_unavailable');
      expect(res.headers['retry-after']).toBe('5');
      other.exec('ROLLBACK');
      expect((await app.http.inject({ method: 'POST', url: '/write' })).statusCode).toBe(200);
    } finally {
      other.close();
      await app.close();
      await database.dispose();
    }
  }, 20_000);

  if (testDialects().includes('postgres')) it('answers a deadlock victim with 503 and Retry-After, and logs the conflict for what it is', async () => {
    const lines: Array<{ msg: string; level: number }> = [];
    const database = await createTestDatabase('postgres');
    await sql`create table crossing (id text primary key)`.execute(database.db);
    await sql`insert into crossing values ('a'), ('b')`.execute(database.db);
    let holdingA!: () => void;
    const heldA = new Promise<void>((resolve) => (holdingA = resolve));
    const crosser: TasdiqModule = {
      name: 'crosser',
      routes: async (app, context) => {
        // Locks a, then b: the test holds b and then asks for a, closing the cycle.
        app.post('/cross', async () => {
          await context.db.transaction().execute(async (tx) => {
            await sql`select id from crossing where id = 'a' for update`.execute(tx);
            holdingA();
            await sql`select id from crossing where id = 'b' for update`.execute(tx);
          });
          return { crossed: true };
        });
      },
    };
    const sink = { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string; level: number }) };
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'warn' }), database, logger: createLogger('warn', sink), modules: [crosser], migrate: false, background: false });
    try {
      await database.db.transaction().execute(async (other) => {
        await sql`select id from crossing where id = 'b' for update`.execute(other);
        const answer = app.http.inject({ method: 'POST', url: '/cross' });
        await heldA;
        await waitForLockWait(database, "%crossing where id = 'b'%");
        // The route has waited for b the longest, so its deadlock check runs first and it is the
        // victim; this transaction then gets a.
        await sql`select id from crossing where id = 'a' for update`.execute(other);
        const res = await answer;
        expect(res.statusCode).toBe(503);
        expect(res.json().code).toBe('service_unavailable');
        expect(res.headers['retry-after']).toBe('1');
      });
      expect(lines.filter((l) => l.msg.startsWith('request failed')).map((l) => [l.level, l.msg])).toEqual([
        [40, 'request failed: the database rolled its transaction back over a conflict with another (deadlock, 40P01); nothing it wrote was kept'],
      ]);
    } finally {
      await app.close();
      await database.dispose();
    }
  }, 20_000);

  it('tells "not now" from "never": classifier on real driver errors', async () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key value violates unique constraint "x"'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('UNIQUE constraint failed: offices.id'), { code: 'ERR_SQLITE_ERROR', errcode: 2067 }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('secret internal detail'))).toBe(false);
  });
});

describe('request log lines', () => {
  it('logs every refused request at info with its URL masked, and successes only at debug', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const database = await createTestDatabase('sqlite');
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'info' }), database, logger: createLogger('info', sink), modules: [healthModule, officesModule], migrate: false, background: false });
    try {
      await app.http.inject('/healthz');
      await app.http.inject('/api/v1/offices?region=XX&pinfl=31234567890123&code=123456');
      await app.http.inject('/no/such/page?token=abc');
      const requests = lines.filter((l) => l.msg === 'request completed');
      expect(requests.map((l) => [l.status, l.url])).toEqual([
        [400, '/api/v1/offices?region=XX&pinfl=%5Bredacted%5D&code=%5Bredacted%5D'],
        [404, '/no/such/page?token=%5Bredacted%5D'],
      ]);
      expect(requests.every((l) => typeof l.reqId === 'string' && l.level === 30)).toBe(true);
      expect(JSON.stringify(lines)).not.toContain('31234567890123');
    } finally {
      await app.close();
      await database.dispose();
    }
  });
});
