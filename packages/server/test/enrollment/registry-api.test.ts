import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { demoRegistryCitizens, verifySignedRequest } from '../../src/identity/index.ts';
import { call, expectNothingWritten, idCard, PUBLIC_URL, registerOperator, type OperatorSession } from './helpers.ts';

const SECRET = 'api-registry-secret';
const people = demoRegistryCitizens(12).filter((_, i) => i % 10 !== 9);
/** Answers that override the registry's true record, keyed by PINFL or `SERIES:NUMBER`. */
const overrides = new Map<string, unknown>();

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
      const query = JSON.parse(body) as { pinfl?: string; document?: { series: string; number: string } };
      const key = query.pinfl ?? `${query.document?.series}:${query.document?.number}`;
      if (overrides.has(key)) return { citizen: overrides.get(key) };
      const found = people.find((p) => p.pinfl === query.pinfl || p.documents.some((d) => d.series === query.document?.series && d.number === query.document?.number));
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

  /** A registry record as loose JSON, for breaking it the ways a remote registry could. */
  type Loose = { [key: string]: unknown; documents: Array<Record<string, unknown> | null>; name: { latn: Record<string, unknown> } };
  const broken = (index: number, breakIt: (c: Loose) => void) => {
    const c = JSON.parse(JSON.stringify({ ...people[index]!, demo: false })) as Loose;
    breakIt(c);
    return c;
  };

  it('answers a malformed registry record with 502 registry_answer_invalid, on lookup and enroll, writing nothing', async () => {
    const person = people[2]!;
    const cases: Array<(c: Loose) => void> = [
      (c) => (c.documents[0]!.kind = 'driving_licence'),
      (c) => (c.documents[0] = null),
      (c) => (c.documents[0]!.expiresOn = 12345),
      (c) => delete c.name.latn.given,
      (c) => delete c.citizenship,
      (c) => (c.photo = 'javascript:alert(1)'),
    ];
    for (const breakIt of cases) {
      overrides.set(person.pinfl, broken(2, breakIt));
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: person.pinfl }), 502, 'registry_answer_invalid');
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) }), 502, 'registry_answer_invalid');
    }
    overrides.delete(person.pinfl);
  });

  it('never enrolls the wrong person: an answer about someone else is refused', async () => {
    const asked = people[3]!;
    overrides.set(asked.pinfl, { ...people[4]!, demo: false });
    try {
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: asked.pinfl, document: idCard(people[4]!) }), 502, 'registry_answer_invalid');
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: asked.pinfl }), 502, 'registry_answer_invalid');
      const card = idCard(asked);
      overrides.set(`${card.series}:${card.number}`, { ...people[4]!, demo: false });
      await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { document: card }), 502, 'registry_answer_invalid');
      overrides.delete(`${card.series}:${card.number}`);
    } finally {
      overrides.delete(asked.pinfl);
    }
    expect(await app.context.db.selectFrom('citizens').select('id').where('pinfl', 'in', [asked.pinfl, people[4]!.pinfl]).execute()).toEqual([]);
  });

  it('keeps a document the registry lists twice once, instead of calling the citizen already enrolled', async () => {
    const person = people[5]!;
    overrides.set(person.pinfl, broken(5, (c) => c.documents.push({ ...c.documents[0] })));
    try {
      const enrolled = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
      expect(enrolled.statusCode, enrolled.body).toBe(201);
      expect(enrolled.json().citizen.documents).toHaveLength(person.documents.length);
      const stored = await app.context.db.selectFrom('identity_documents').select('number').where('citizen_id', '=', enrolled.json().citizen.id).execute();
      expect(stored).toHaveLength(person.documents.length);
    } finally {
      overrides.delete(person.pinfl);
    }
  });

  it('says so when a document of the person is recorded here for another citizen (409 conflict, not already_enrolled)', async () => {
    const holder = people[6]!;
    const claimant = people[7]!;
    expect((await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: holder.pinfl, document: idCard(holder) })).statusCode).toBe(201);
    // The registry now lists the holder's ID card for the claimant too (a registry correction).
    overrides.set(claimant.pinfl, broken(7, (c) => c.documents.push({ ...holder.documents[0]! })));
    try {
      const refused = await expectNothingWritten(
        app,
        () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments?lang=en', { pinfl: claimant.pinfl, document: idCard(claimant) }),
        409,
        'conflict',
      );
      expect(refused.json().detail).toBe('A document of this person is recorded here for another citizen; contact support.');
    } finally {
      overrides.delete(claimant.pinfl);
    }
  });
});
