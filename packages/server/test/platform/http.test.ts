import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, testDialects } from '../support/databases.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { healthModule } from '../../src/health/routes.ts';

describe.each(testDialects())('HTTP platform on %s', (dialect) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(dialect);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers liveness and readiness', async () => {
    expect((await app.http.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.http.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: dialect });
  });

  it('exposes Prometheus metrics with request latency histograms', async () => {
    await app.http.inject('/api/v1/offices');
    const res = await app.http.inject('/metrics');
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/tasdiq_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/offices",status_code="200"\}/);
    // Cumulative buckets up to +Inf, which equals the count; every request so far was one of these.
    const series = (suffix: string) =>
      [...res.body.matchAll(new RegExp(`^tasdiq_http_request_duration_seconds_${suffix}\\{(?:le="([^"]+)",)?method="GET",route="/api/v1/offices",status_code="200"\\} (\\S+)$`, 'gm'))].map((m) => [m[1], Number(m[2])] as const);
    const buckets = series('bucket');
    expect(buckets.map(([le]) => le)).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    expect(buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1]![1])).toBe(true);
    expect(buckets.at(-1)![1]).toBe(1);
    expect(series('count')).toEqual([[undefined, 1]]);
    expect(series('sum')[0]![1]).toBeGreaterThan(0);
    expect(res.body).toMatch(/# TYPE tasdiq_http_request_duration_seconds histogram/);
    expect(res.body).toMatch(/tasdiq_process_cpu_seconds_total/);
  });

  it('echoes a well-formed request id and makes one otherwise', async () => {
    const given = await app.http.inject({ url: '/healthz', headers: { 'x-request-id': 'client-req-12345' } });
    expect(given.headers['x-request-id']).toBe('client-req-12345');
    const made = await app.http.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends the security headers on every kind of answer: API, page, the OpenID provider (handed the raw request) and a problem', async () => {
    for (const url of ['/api/v1/offices', '/auth/signin', '/oidc/jwks', '/.well-known/openid-configuration', '/api/v1/nothing']) {
      const response = await app.http.inject(url);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['x-request-id'], url).toMatch(/^[0-9a-f-]{36}$/);
      // Served over plain HTTP (development): no HSTS, which would only be ignored.
      expect(response.headers['strict-transport-security'], url).toBeUndefined();
    }
  });

  it('lists demo offices in the caller language with keyset pagination', async () => {
    const first = await app.http.inject({ url: '/api/v1/offices?region=UZ-SU&limit=2', headers: { 'accept-language': 'ru' } });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.items).toHaveLength(2);
    expect(body.items[0].name).toMatch(/Сурхандарьинская|Байсунского/);
    expect(body.next).toBe(body.items[1].id);
    const second = await app.http.inject(`/api/v1/offices?region=UZ-SU&limit=2&after=${body.next}&lang=uz-Cyrl`);
    expect(second.json().items).toHaveLength(1);
    expect(second.json().next).toBeNull();
    expect(second.json().items[0].name).toMatch(/[А-Яа-яЎўҚқҒғҲҳ]/);
  });

  it('answers bad input with problem+json and a stable code, in the caller language', async () => {
    const res = await app.http.inject({ url: '/api/v1/offices?region=XX&limit=500', headers: { 'accept-language': 'uz-Cyrl' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, code: 'validation_failed', type: 'urn:tasdiq:problem:validation_failed' });
    expect(problem.title).toBe('Сўров маълумотлари нотўғри');
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    expect(problem.errors[0].field).toMatch(/^querystring\./);

    const unknownParam = await app.http.inject('/api/v1/offices?colour=red');
    expect(unknownParam.json().code).toBe('validation_failed');
  });

  it('answers unknown routes, unknown ids and wrong methods with 4xx problems', async () => {
    const missing = await app.http.inject('/no/such/thing');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('not_found');
    const unknownOffice = await app.http.inject('/api/v1/offices/psc-nowhere-99');
    expect(unknownOffice.json().code).toBe('not_found');
    const badId = await app.http.inject('/api/v1/offices/..%2F..%2Fetc');
    expect(badId.statusCode).toBe(400);
    const post = await app.http.inject({ method: 'DELETE', url: '/healthz' });
    expect(post.statusCode).toBe(404);
  });

  it('rejects malformed bodies and unsupported media types with 4xx, never 500', async () => {
    app.http.log.level = 'silent';
    const badJson = await app.http.inject({ method: 'POST', url: '/api/v1/offices', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(badJson.statusCode).toBeGreaterThanOrEqual(400);
    expect(badJson.statusCode).toBeLessThan(500);
    expect(badJson.json().code).toBeTypeOf('string');
  });
});

describe('rate limiting', () => {
  it('limits a stranger per address and says when to come back', async () => {
    const app = await createTestApp('sqlite', { config: { rateLimitPerMinute: 3 } });
    try {
      for (let i = 0; i < 3; i++) expect((await app.http.inject('/api/v1/offices')).statusCode).toBe(200);
      const limited = await app.http.inject({ url: '/api/v1/offices', headers: { 'accept-language': 'en' } });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe('rate_limited');
      expect(limited.json().title).toMatch(/try again in \d+ s/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Health probes are never limited: an orchestrator must always be able to ask.
      for (let i = 0; i < 5; i++) expect((await app.http.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('health endpoints a stranger can reach', () => {
  it('answers a burst of readiness probes with one database round trip per second', async () => {
    const database = await createTestDatabase('sqlite');
    let pings = 0;
    const counted = { ...database, ping: async () => (pings++, database.ping()) };
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'silent' }), database: counted, logger: createLogger('silent'), modules: [healthModule], migrate: false, background: false });
    try {
      const burst = await Promise.all(Array.from({ length: 20 }, () => app.http.inject('/readyz')));
      expect(burst.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
      expect(pings).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await app.http.inject('/readyz')).statusCode).toBe(200);
      expect(pings).toBe(2);
    } finally {
      await app.close();
      await database.dispose();
    }
  });

  it('guards /metrics with TASDIQ_METRICS_TOKEN when it is set', async () => {
    const token = 'scrape-token-0123456789';
    const app = await createTestApp('sqlite', { config: { metricsToken: token } });
    try {
      const anonymous = await app.http.inject({ url: '/metrics', headers: { 'accept-language': 'en' } });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().code).toBe('unauthorized');
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(anonymous.body).not.toContain('tasdiq_http_request_duration_seconds');
      for (const authorization of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, token, `Basic ${token}`, 'Bearer ']) {
        expect((await app.http.inject({ url: '/metrics', headers: { authorization } })).statusCode, authorization).toBe(401);
      }
      const scraper = await app.http.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(scraper.statusCode).toBe(200);
      expect(scraper.body).toMatch(/tasdiq_http_request_duration_seconds_bucket/);
      // Probes stay open: an orchestrator has no token.
      expect((await app.http.inject('/readyz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('served over HTTPS', () => {
  it('tells browsers to come back only over HTTPS (HSTS), on the API and on the OpenID provider', async () => {
    const app = await createTestApp('sqlite', { config: { publicUrl: 'https://id.example.uz' } });
    try {
      for (const url of ['/api/v1/offices', '/oidc/jwks', '/auth/signin']) {
        expect((await app.http.inject(url)).headers['strict-transport-security'], url).toBe('max-age=31536000');
      }
    } finally {
      await app.close();
    }
  });
});
