import { createHash, type KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ModuleMigration } from '../platform/db/migrations.ts';
import type { Db } from '../platform/db/index.ts';
import { following } from '../platform/db/write-together.ts';
import { OwedRows } from '../platform/owed-rows.ts';
import { ApiError, defineErrors } from '../platform/errors.ts';
import { ClientRegistry, type RelyingParty } from '../clients/index.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';
import { es256Header, importEs256Key, selectEs256Key, unverifiedClaims, verifyEs256Assertion } from './es256-assertion.ts';

/**
 * Relying-party authentication for the Mobile-ID REST API: an RFC 7523 client assertion
 * (private_key_jwt with the keys the client registered for OIDC) in `Authorization: Bearer`.
 * A request naming a registered client's `serviceId` must carry that client's valid, unused
 * assertion, so nobody can start sessions in a registered service's name. Outside
 * development every caller needs one; in development (demo page, simulator, tests) a caller
 * without an Authorization header may still name an unregistered `serviceId`.
 */

export const ClientAuthErrors = defineErrors({
  client_assertion_invalid: {
    status: 401,
    title: {
      'uz-Latn': "Mijoz tasdiqnomasi (client assertion) noto'g'ri yoki muddati o'tgan",
      'uz-Cyrl': 'Мижоз тасдиқномаси (client assertion) нотўғри ёки муддати ўтган',
      ru: 'Клиентское утверждение (client assertion) неверно или просрочено',
      en: 'The client assertion is invalid or expired',
    },
  },
  client_assertion_required: {
    status: 401,
    title: {
      'uz-Latn': "Bu serviceId ro'yxatdan o'tgan mijozniki: mijoz tasdiqnomasi (client assertion) kerak",
      'uz-Cyrl': 'Бу serviceId рўйхатдан ўтган мижозники: мижоз тасдиқномаси (client assertion) керак',
      ru: 'Этот serviceId принадлежит зарегистрированному клиенту: нужно клиентское утверждение (client assertion)',
      en: 'This serviceId belongs to a registered client: a client assertion is required',
    },
  },
  client_authentication_required: {
    status: 401,
    title: {
      'uz-Latn': "Xizmat o'zini mijoz tasdiqnomasi (client assertion) bilan tanitishi kerak",
      'uz-Cyrl': 'Хизмат ўзини мижоз тасдиқномаси (client assertion) билан танитиши керак',
      ru: 'Сервис должен представиться клиентским утверждением (client assertion)',
      en: 'The calling service must authenticate with a client assertion',
    },
  },
  client_origin_not_registered: {
    status: 403,
    title: {
      'uz-Latn': "{origin} bu xizmatning ro'yxatdan o'tgan manzillaridan emas: SMS-kod faqat xizmatning o'z saytiga bog'lanadi",
      'uz-Cyrl': '{origin} бу хизматнинг рўйхатдан ўтган манзилларидан эмас: SMS-код фақат хизматнинг ўз сайтига боғланади',
      ru: '{origin} не входит в зарегистрированные адреса сервиса: SMS-код привязывается только к собственному сайту сервиса',
      en: '{origin} is not one of the service\'s registered hosts: an SMS code is bound to the service\'s own site only',
    },
  },
  client_service_mismatch: {
    status: 403,
    title: {
      'uz-Latn': "serviceId autentifikatsiyadan o'tgan mijozga mos emas",
      'uz-Cyrl': 'serviceId аутентификациядан ўтган мижозга мос эмас',
      ru: 'serviceId не совпадает с аутентифицированным клиентом',
      en: 'serviceId is not the authenticated client',
    },
  },
});

/** The hosts (with a port other than the scheme's) a client's registered URIs name. */
function hostsOf(client: RelyingParty): Set<string> {
  const hosts = new Set<string>();
  for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
    try {
      hosts.add(new URL(uri).host);
    } catch {
      // a registered URI that does not parse names no host
    }
  }
  return hosts;
}

/**
 * Wraps a route that authenticated its caller: rows the request owes (its used assertion) are
 * written, alone, when the route ended without writing them itself.
 */
export function withOwedRows<H extends (this: never, request: FastifyRequest, ...rest: never[]) => unknown>(db: Db, handler: H): H {
  return async function (this: never, request: FastifyRequest, ...rest: never[]) {
    let result: unknown;
    try {
      result = await handler.call(this, request, ...rest);
    } catch (error) {
      await request.owed?.settle(db, error);
      throw error;
    }
    await request.owed?.settle(db);
    return result;
  } as H;
}

/** Routes that start sessions; the assertion's audience is the endpoint's URL. */
export const CLIENT_AUTH_ROUTES = new Set(['/api/v1/auth/sessions', '/api/v1/sign/sessions']);

const MAX_ASSERTION_AGE_S = 60;
const CLIENT_CACHE_MS = 5_000;
/**
 * Expired used assertions are deleted every second, at most this many per statement: a sweep
 * every 10 s deleted 10 s of sign-ins in one statement, a burst of database work that the
 * sessions started beside it felt (p99 22-24 ms at 220/s against 19 ms without the sweep).
 */
const USED_ASSERTION_SWEEP_MS = 1_000;
const USED_ASSERTION_SWEEP_BATCH = 2_000;
const ALGORITHMS = ['ES256', 'PS256', 'EdDSA'];
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti'] as const;
const CLOCK_TOLERANCE_S = 5;

export interface UsedAssertionTable {
  /** SHA-256 (hex) of `client_id` and `jti`: a used assertion, kept until it expires. */
  id_hash: string;
  expires_at: number;
}

declare module '../platform/db/types.ts' {
  interface Database {
    rest_used_assertions: UsedAssertionTable;
  }
}

export const clientAuthMigrations: ModuleMigration[] = [
  {
    name: '202611250805_openapi_used_assertions',
    async up(db, { types }) {
      await db.schema
        .createTable('rest_used_assertions')
        .addColumn('id_hash', types.text, (c) => c.primaryKey())
        .addColumn('expires_at', types.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rest_used_assertions_expires_idx').on('rest_used_assertions').column('expires_at').execute();
    },
  },
];

/** Deletes up to `limit` used assertions that expired before `now`; how many it deleted. */
export async function forgetExpiredAssertions(db: Db, now: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('rest_used_assertions')
    .where('id_hash', 'in', (eb) => eb.selectFrom('rest_used_assertions').select('id_hash').where('expires_at', '<', now).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

const invalid = (detail: string) => new ApiError(ClientAuthErrors.client_assertion_invalid, { detail, headers: { 'www-authenticate': 'Bearer error="invalid_client"' } });

export function clientAssertionCheck(options: {
  db: Db;
  publicUrl: string;
  now: () => number;
  /**
   * Whether a caller without an assertion may start sessions for an unregistered serviceId.
   * Only in development (demo page, simulator, tests): in production every session start
   * names a registered relying party, or strangers could push requests to any citizen.
   */
  anonymousAllowed: boolean;
}) {
  const registry = new ClientRegistry(options.db, options.now);
  // Every session start looks its client up: the registration is kept for a few seconds (a
  // disabled client is refused within CLIENT_CACHE_MS), and its keys are imported once per
  // version of the registration, not on every request.
  const clients = new BoundedCache<string, RelyingParty | null>(10_000);
  const findActive = async (clientId: string): Promise<RelyingParty | undefined> => {
    const now = options.now();
    const cached = clients.get(clientId, now);
    if (cached !== undefined) return cached ?? undefined;
    const client = await registry.findActive(clientId);
    clients.set(clientId, client ?? null, now + CLIENT_CACHE_MS);
    return client;
  };
  const localKeys = new BoundedCache<string, JWTVerifyGetKey>(10_000);
  const remoteKeys = new Map<string, JWTVerifyGetKey>();
  const keysOf = (client: RelyingParty): JWTVerifyGetKey | undefined => {
    if (client.jwks) {
      const version = `${client.clientId}@${client.version}`;
      let keys = localKeys.get(version, 0);
      if (!keys) localKeys.set(version, (keys = createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0])));
      return keys;
    }
    if (!client.jwksUri) return undefined;
    let keys = remoteKeys.get(client.jwksUri);
    if (!keys) remoteKeys.set(client.jwksUri, (keys = createRemoteJWKSet(new URL(client.jwksUri), { timeoutDuration: 3000 })));
    return keys;
  };
  // An ES256 assertion whose header selects exactly one inline key is checked synchronously
  // (es256-assertion.ts); the key is imported once per registration version and key id.
  const es256Keys = new BoundedCache<string, KeyObject | null>(10_000);
  const es256KeyOf = (client: RelyingParty, assertion: string): KeyObject | undefined => {
    const header = client.jwks ? es256Header(assertion) : undefined;
    if (!header) return undefined;
    const version = `${client.clientId}@${client.version}#${header.kid ?? ''}`;
    let key = es256Keys.get(version, 0);
    if (key === undefined) {
      const jwk = selectEs256Key((client.jwks as { keys: readonly Record<string, unknown>[] }).keys, header.kid);
      es256Keys.set(version, (key = (jwk && importEs256Key(jwk)) ?? null));
    }
    return key ?? undefined;
  };
  // Used assertions are forgotten once expired. A request that finds the last sweep a second
  // old starts the next one and does not wait for it; one runs at a time.
  let lastSweep = 0;
  let sweeping = false;
  const sweepUsedAssertions = (request: FastifyRequest, now: number): void => {
    if (sweeping || now - lastSweep < USED_ASSERTION_SWEEP_MS) return;
    lastSweep = now;
    sweeping = true;
    forgetExpiredAssertions(options.db, now, USED_ASSERTION_SWEEP_BATCH)
      .catch((error: unknown) => request.log.warn({ err: error }, 'forgetting expired client assertions failed; the next sweep tries again'))
      .finally(() => (sweeping = false));
  };

  return async function checkClientAssertion(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined) {
      if (!options.anonymousAllowed) {
        throw new ApiError(ClientAuthErrors.client_authentication_required, { headers: { 'www-authenticate': 'Bearer error="invalid_client"' } });
      }
      const serviceId = (request.body as { serviceId?: unknown } | undefined)?.serviceId;
      if (typeof serviceId === 'string' && (await findActive(serviceId))) {
        throw new ApiError(ClientAuthErrors.client_assertion_required, { headers: { 'www-authenticate': 'Bearer error="invalid_client"' } });
      }
      return;
    }
    const assertion = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header)?.[1];
    if (!assertion || assertion.length > 8192) throw invalid('expected Authorization: Bearer <client assertion JWT>');
    const claims = unverifiedClaims(assertion);
    if (!claims) throw invalid('not a JWT');
    const clientId = claims.iss;
    const client = typeof clientId === 'string' && clientId.length <= 100 ? await findActive(clientId) : undefined;
    const keys = client && keysOf(client);
    if (!client || !keys) throw invalid('unknown or disabled client, or no registered keys');
    const now = options.now();
    const audience = `${options.publicUrl}${request.routeOptions.url}`;
    const rules = { issuer: client.clientId, subject: client.clientId, audience, requiredClaims: REQUIRED_CLAIMS, maxTokenAgeS: MAX_ASSERTION_AGE_S, clockToleranceS: CLOCK_TOLERANCE_S, now };
    const es256Key = es256KeyOf(client, assertion);
    const payload = es256Key
      ? verifyEs256Assertion(assertion, es256Key, rules)
      : await jwtVerify(assertion, keys, {
          issuer: rules.issuer,
          subject: rules.subject,
          audience,
          algorithms: ALGORITHMS,
          requiredClaims: [...REQUIRED_CLAIMS],
          maxTokenAge: MAX_ASSERTION_AGE_S,
          currentDate: new Date(now),
          clockTolerance: CLOCK_TOLERANCE_S,
        }).then(
          (verified) => verified.payload,
          () => undefined,
        );
    if (!payload) throw invalid(`signature, iss/sub, aud (${audience}), exp or age (at most ${MAX_ASSERTION_AGE_S} s) do not check`);
    if (typeof payload.jti !== 'string' || payload.jti.length < 16 || payload.jti.length > 200) throw invalid('jti must be 16 to 200 characters');
    const serviceId = (request.body as { serviceId?: unknown } | undefined)?.serviceId;
    if (serviceId !== client.clientId) throw new ApiError(ClientAuthErrors.client_service_mismatch);
    const idHash = createHash('sha256').update(`${client.clientId}\n${payload.jti}`).digest('hex');
    sweepUsedAssertions(request, now);
    // The assertion is used up by the write that starts the session, in the same statement, so
    // a replay can never start a second one; a request that fails first uses it up on its own
    // (withOwedRows). Either way a replay gets `client_assertion_invalid`.
    const used = following('rest_used_assertions', { id_hash: idHash, expires_at: (Math.min(payload.exp!, payload.iat! + MAX_ASSERTION_AGE_S) + 5) * 1000 });
    request.owed = new OwedRows([used], () => invalid('this assertion was already used'));
    // The phone shows the service's name; for an authenticated caller it is the name the admin
    // registered (in the language the caller asks for), not whatever text the request carries:
    // a phishing service could claim any.
    (request.body as { serviceName: string }).serviceName = (client.name[request.locale] || client.name['uz-Latn']).slice(0, 100);
    // The SMS code is bound to the origin it names (`@origin #code`, WebOTP): a registered
    // service may name only its own hosts, those of its registered redirect URIs.
    const origin = (request.body as { origin?: unknown } | undefined)?.origin;
    if (typeof origin === 'string' && !hostsOf(client).has(origin)) {
      const refused = new ApiError(ClientAuthErrors.client_origin_not_registered, { params: { origin } });
      await request.owed.settle(options.db, refused);
      throw refused;
    }
    request.log.info({ clientId: client.clientId }, 'REST API caller authenticated');
  };
}
