import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/platform/config.ts';
import {
  demoRegistryCitizens,
  HttpRegistry,
  loadRegistryFile,
  parseRegistryCitizen,
  registryFromEnvironment,
  RegistryAnswerInvalidError,
  RegistryUnavailableError,
  type RegistryCitizen,
} from '../../src/identity/index.ts';

const people = demoRegistryCitizens(10);
const alice = people[0]!;
const bob = people[1]!;
const NOW = Date.parse('2026-11-25T08:00:00Z');

/** A JSON copy that a test may break in any way a remote registry could. */
function copy(citizen: RegistryCitizen): Record<string, unknown> & { documents: Record<string, unknown>[]; name: Record<string, Record<string, unknown>> } {
  return JSON.parse(JSON.stringify(citizen));
}

/** Ways a registry answer can be wrong, each with the field the refusal must name. */
const BROKEN: ReadonlyArray<[string, (c: ReturnType<typeof copy>) => unknown, RegExp]> = [
  ['an unknown document kind', (c) => ((c.documents[0]!.kind = 'driving_licence'), c), /documents\[0\]\.kind/],
  ['a null document', (c) => ((c.documents[0] = null as never), c), /documents\[0\]/],
  ['expiresOn as a number', (c) => ((c.documents[0]!.expiresOn = 12345), c), /documents\[0\]\.expiresOn/],
  ['a date that does not exist', (c) => ((c.documents[0]!.issuedOn = '2021-02-30'), c), /documents\[0\]\.issuedOn/],
  ['expiry before issue', (c) => ((c.documents[0]!.expiresOn = '2000-01-01'), c), /documents\[0\]\.expiresOn/],
  ['missing given name', (c) => (delete c.name.latn!.given, c), /name\.latn\.given/],
  ['a Cyrillic given name in Latin script', (c) => ((c.name.latn!.given = 'Демо'), c), /name\.latn\.given.*Latin/],
  ['a Latin surname in Cyrillic script', (c) => ((c.name.cyrl!.surname = 'Demoyev'), c), /name\.cyrl\.surname.*Cyrillic/],
  ['missing Cyrillic names', (c) => (delete c.name.cyrl, c), /name\.cyrl/],
  ['missing citizenship', (c) => (delete c.citizenship, c), /citizenship/],
  ['a lower-case citizenship', (c) => ((c.citizenship = 'uz'), c), /citizenship/],
  ['a photo that is a web address', (c) => ((c.photo = 'https://tracker.example/p.png'), c), /photo/],
  ['a photo that is not an image', (c) => ((c.photo = 'data:text/html;base64,PHNjcmlwdD4='), c), /photo/],
  ['a birth date in the wrong format', (c) => ((c.birthDate = '15.05.1990'), c), /birthDate/],
  ['an invalid PINFL', (c) => ((c.pinfl = `${String(c.pinfl).slice(0, 13)}${(Number(String(c.pinfl)[13]) + 1) % 10}`), c), /pinfl.*check digit/],
  ['sex as a word', (c) => ((c.sex = 'male'), c), /sex/],
  ['documents as an object', (c) => ((c.documents = {} as never), c), /documents/],
  ['one document listed twice with different dates', (c) => (c.documents.push({ ...c.documents[0]!, expiresOn: '2040-01-01' }), c), /documents\[\d\].*same series and number/],
  ['a control character in the issuing office', (c) => ((c.documents[0]!.issuingOffice = 'IIB\u0000'), c), /issuingOffice/],
  ['not an object at all', () => 'citizen', /citizen/],
];

describe('the registry record schema', () => {
  it('accepts the demo records as they are, and drops fields it does not know', () => {
    for (const person of people) expect(parseRegistryCitizen(person, NOW)).toEqual({ ok: true, citizen: person });
    const extra = { ...copy(alice), shoeSize: 44 };
    expect(parseRegistryCitizen(extra, NOW)).toEqual({ ok: true, citizen: alice });
  });

  it.each(BROKEN)('refuses %s, naming the field but not the value', (_what, breakIt, field) => {
    const result = parseRegistryCitizen(breakIt(copy(alice)), NOW);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatch(field);
    expect(result.problem).not.toContain(alice.pinfl);
    expect(result.problem).not.toContain(alice.name.latn.surname);
  });

  it('keeps one copy of a document listed twice, a missing patronymic as empty, a missing photo as null', () => {
    const c = copy(alice);
    c.documents.push({ ...c.documents[0]!, series: String(c.documents[0]!.series).toLowerCase() });
    delete c.name.latn!.patronymic;
    c.name.cyrl!.patronymic = null;
    delete c.photo;
    const result = parseRegistryCitizen(c, NOW);
    expect(result).toMatchObject({ ok: true, citizen: { documents: alice.documents, photo: null, name: { latn: { patronymic: '' }, cyrl: { patronymic: '' } } } });
  });

  it('refuses a birth date in the future, and a PINFL whose birth date is in the future', () => {
    const c = copy(alice);
    c.birthDate = '2027-01-01';
    expect(parseRegistryCitizen(c, NOW)).toMatchObject({ ok: false, problem: expect.stringMatching(/^birthDate: in the future/) });
  });
});

describe('the HTTP registry connector refuses bad answers', () => {
  let registry: FastifyInstance;
  let url = '';
  /** What the stand-in answers for each PINFL or document: a citizen record of any shape. */
  const answers = new Map<string, unknown>();
  const asked = new Map<string, number>();

  beforeAll(async () => {
    registry = Fastify();
    registry.post('/v1/lookup', async (request, reply) => {
      const query = request.body as { pinfl?: string; document?: { series: string; number: string } };
      const key = query.pinfl ?? `${query.document?.series}:${query.document?.number}`;
      asked.set(key, (asked.get(key) ?? 0) + 1);
      if (!answers.has(key)) return reply.code(404).send({});
      return { citizen: answers.get(key) };
    });
    url = await registry.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => registry?.close());

  const connector = () => new HttpRegistry({ baseUrl: url, allowPlainHttp: true, hmac: { keyId: 'k', secret: 's' }, timeoutMs: 500, retries: 2, backoffMs: 5 });

  it.each(BROKEN)('%s: RegistryAnswerInvalidError, not retried', async (_what, breakIt, field) => {
    const key = `${alice.pinfl}`;
    answers.set(key, breakIt(copy(alice)));
    asked.delete(key);
    const client = connector();
    try {
      const error = await client.findByPinfl(alice.pinfl).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAnswerInvalidError);
      // Callers that know only "unavailable" still handle it.
      expect(error).toBeInstanceOf(RegistryUnavailableError);
      expect((error as RegistryAnswerInvalidError).problem).toMatch(field);
      expect(asked.get(key)).toBe(1);
    } finally {
      client.close();
    }
  });

  it('refuses an answer about another person than the one asked for', async () => {
    answers.set(alice.pinfl, bob);
    const client = connector();
    try {
      await expect(client.findByPinfl(alice.pinfl)).rejects.toMatchObject({ name: 'RegistryAnswerInvalidError', problem: expect.stringContaining('another person') });
    } finally {
      client.close();
    }
  });

  it('refuses a document lookup answered with a record that does not hold the document', async () => {
    const card = alice.documents[0]!;
    answers.set(`${card.series}:${card.number}`, bob);
    const client = connector();
    try {
      await expect(client.findByDocument(card.series.toLowerCase(), ` ${card.number} `)).rejects.toMatchObject({ name: 'RegistryAnswerInvalidError' });
      answers.set(`${card.series}:${card.number}`, alice);
      expect(await client.findByDocument(card.series.toLowerCase(), ` ${card.number} `)).toEqual(alice);
    } finally {
      client.close();
    }
  });

  it('answers the cleaned record: a duplicate document once, unknown fields dropped', async () => {
    const c = copy(alice);
    c.documents.push({ ...c.documents[0]! });
    answers.set(alice.pinfl, { ...c, internalNote: 'x' });
    const client = connector();
    try {
      expect(await client.findByPinfl(alice.pinfl)).toEqual(alice);
    } finally {
      client.close();
    }
  });
});

describe('registry configuration from the environment', () => {
  const base = { TASDIQ_REGISTRY_HMAC_SECRET: 'secret' };

  it('refuses plain http outside development, and accepts it in development', () => {
    expect(() => registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'http://registry.example/api' }, false)).toThrow(ConfigError);
    expect(() => registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'http://registry.example/api' }, false)).toThrow(/https:\/\/ URL \(plain http is allowed only with TASDIQ_DEVELOPMENT\)/);
    const dev = registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'http://127.0.0.1:9/api' }, true);
    expect(dev).toBeInstanceOf(HttpRegistry);
    (dev as HttpRegistry).close();
    const prod = registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'https://registry.example/api' }, false);
    expect(prod?.source).toBe('http');
    (prod as HttpRegistry).close();
  });

  it('names a timeout or retry count that is not a whole number, instead of running with NaN', () => {
    const env = { ...base, TASDIQ_REGISTRY: 'https://registry.example/api' };
    for (const [name, value] of [
      ['TASDIQ_REGISTRY_TIMEOUT_MS', '5s'],
      ['TASDIQ_REGISTRY_TIMEOUT_MS', '0'],
      ['TASDIQ_REGISTRY_TIMEOUT_MS', '1e3'],
      ['TASDIQ_REGISTRY_RETRIES', 'two'],
      ['TASDIQ_REGISTRY_RETRIES', '-1'],
      ['TASDIQ_REGISTRY_RETRIES', '2.5'],
    ] as const) {
      const error = (() => {
        try {
          registryFromEnvironment({ ...env, [name]: value }, false);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(error, `${name}=${value}`).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringContaining(`${name}: expected an integer`)]);
    }
    const ok = registryFromEnvironment({ ...env, TASDIQ_REGISTRY_TIMEOUT_MS: '2500', TASDIQ_REGISTRY_RETRIES: '0' }, false);
    expect(ok).toBeInstanceOf(HttpRegistry);
    (ok as HttpRegistry).close();
  });

  it('says that the HTTP registry needs authentication, and a URL', () => {
    expect(() => registryFromEnvironment({ TASDIQ_REGISTRY: 'https://registry.example/api' }, false)).toThrow(/mutual TLS .* or signed requests/);
    expect(() => registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'registry.example' }, false)).toThrow(/must be demo, file:/);
    expect(() => registryFromEnvironment({ ...base, TASDIQ_REGISTRY: 'https://r.example', TASDIQ_REGISTRY_CERT: '/c.pem' }, false)).toThrow(/go together/);
  });
});

describe('registry files', () => {
  it('hold every record to the same schema as the HTTP answers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-registry-'));
    try {
      const path = join(dir, 'registry.json');
      const broken = copy(people[2]!);
      broken.documents[0]!.kind = 'birth_certificate';
      writeFileSync(path, JSON.stringify({ citizens: [alice, bob, broken] }));
      expect(() => loadRegistryFile(path)).toThrow(/citizens\[2\]\.documents\[0\]\.kind: expected one of id_card, passport/);
      const twice = copy(bob);
      twice.documents = [...copy(alice).documents];
      writeFileSync(path, JSON.stringify({ citizens: [alice, twice] }));
      expect(() => loadRegistryFile(path)).toThrow(/held by two citizens/);
      writeFileSync(path, JSON.stringify({ citizens: [alice, bob] }));
      expect(loadRegistryFile(path).size).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
