import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { demoRegistryCitizens, verifySignedRequest } from '../../src/identity/index.ts';
import { call, expectNothingWritten, idCard, PUBLIC_URL, registerOperator, type OperatorSession } from './helpers.ts';

const SECRET = 'api-registry-secret';
const people = demoRegistryCitizens(5);

/** The enrollment API over the HTTP registry connector, against a stand-in registry on loopback. */
describe.each(testDialects())('enrollment against an HTTP population registry on %s', (dialect) => {
  let registry: FastifyInstance;
  let app: TestApp;
  let operator: OperatorSession;
  let up = true;

  beforeAll(async () => {
    registry = Fastify();
    registry.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    registry.post('/v1/lookup', async (request, reply) => {
      if (!up) return reply.code(503).send({});
      const body = request.body as string;
      if (!verifySignedRequest(SECRET, { method: 'POST', path: '/v1/lookup', headers: request.headers, body }, Date.now())) return reply.code(401).send({});
      const query = JSON.parse(body) as { pinfl?: string };
      const found = people.find((p) => p.pinfl === query.pinfl);
      return found ? { citizen: { ...found, demo: false } } : reply.code(404).send({});
    });
    const url = await registry.listen({ host: '127.0.0.1', port: 0 });
    Object.assign(process.env, { TASDIQ_REGISTRY: url, TASDIQ_REGISTRY_HMAC_SECRET: SECRET, TASDIQ_REGISTRY_TIMEOUT_MS: '500', TASDIQ_REGISTRY_RETRIES: '1' });
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL } });
    operator = await registerOperator(app, 'notary', 'notary-tk-01');
  });
  afterAll(async () => {
    for (const key of ['TASDIQ_REGISTRY', 'TASDIQ_REGISTRY_HMAC_SECRET', 'TASDIQ_REGISTRY_TIMEOUT_MS', 'TASDIQ_REGISTRY_RETRIES']) delete process.env[key];
    await app?.close();
    await registry?.close();
  });

  it('enrolls from the registry and records where the data came from', async () => {
    const person = people[0]!;
    const enrolled = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    expect(enrolled.json().citizen).toMatchObject({ pinfl: person.pinfl, demo: false, enrollment: { officeId: 'notary-tk-01', assurance: 'in_person' } });
    const row = await app.context.db.selectFrom('citizens').select(['source', 'surname_cyrl']).where('pinfl', '=', person.pinfl).executeTakeFirstOrThrow();
    expect(row).toEqual({ source: 'http', surname_cyrl: person.name.cyrl.surname });
  });

  it('answers 404 for a person the registry does not know and 503 when it is down, writing nothing', async () => {
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: '31505900012347' }), 404, 'citizen_not_in_registry');
    up = false;
    try {
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: people[1]!.pinfl }), 503, 'registry_unavailable');
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: people[1]!.pinfl, document: idCard(people[1]!) }), 503, 'registry_unavailable');
    } finally {
      up = true;
    }
  });
});
