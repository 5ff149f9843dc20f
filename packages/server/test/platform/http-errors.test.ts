import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { MODULES } from '../../src/modules.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

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
