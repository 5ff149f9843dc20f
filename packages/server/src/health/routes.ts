import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext, TasdiqModule } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';

const READY_TIMEOUT_MS = 2_000;
/** One round trip to each dependency answers every readiness probe within this window. */
const READY_CACHE_MS = 1_000;

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `Authorization: Bearer <TASDIQ_METRICS_TOKEN>`, compared in constant time. */
function bearerMatches(request: FastifyRequest, expected: Buffer): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
  return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function routes(app: FastifyInstance, context: AppContext): Promise<void> {
  const noLimit = { rateLimit: false } as const;

  app.get('/healthz', { config: noLimit }, async () => ({ status: 'ok' }));

  // Orchestrators probe often and strangers can too: concurrent and repeated probes within
  // READY_CACHE_MS share one round trip to each dependency, so /readyz is unlimited but cheap.
  // An instance whose Redis is away answers every rate-limited request 503, so it is not ready.
  type Failure = { dependency: 'database' | 'redis'; error: unknown };
  let check: { at: number; result: Promise<Failure | undefined> } | undefined;
  const probe = (dependency: Failure['dependency'], roundTrip: () => Promise<unknown>): Promise<Failure | undefined> =>
    withTimeout(roundTrip(), READY_TIMEOUT_MS).then(
      () => undefined,
      (error: unknown) => ({ dependency, error: error ?? new Error(`${dependency} did not answer`) }),
    );
  const ping = (): Promise<Failure | undefined> => {
    const now = Date.now();
    if (!check || now - check.at >= READY_CACHE_MS) {
      const redis = context.redis;
      const result = Promise.all([probe('database', () => context.database.ping()), redis ? probe('redis', () => redis.ping()) : undefined]).then(
        ([database, cache]) => database ?? cache,
      );
      check = { at: now, result };
    }
    return check.result;
  };

  app.get('/readyz', { config: noLimit }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const failure = await ping();
    if (failure) {
      request.log.warn({ err: failure.error, dependency: failure.dependency }, 'readiness check failed');
      throw new ApiError(CommonErrors.service_unavailable, { detail: `${failure.dependency} did not answer`, headers: { 'retry-after': '1' } });
    }
    return { status: 'ready', database: context.dialect, ...(context.redis ? { redis: 'ready' } : {}) };
  });

  // Route-level traffic is operational data: with TASDIQ_METRICS_TOKEN set only a scraper
  // bearing it may read it. The global rate limit applies either way.
  const token = context.config.metricsToken ? digest(context.config.metricsToken) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (token && !bearerMatches(request, token)) {
      throw new ApiError(CommonErrors.unauthorized, { headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
    }
    reply.type(context.metrics.registry.contentType).header('cache-control', 'no-store');
    return context.metrics.registry.metrics();
  });
}

export const healthModule: TasdiqModule = {
  name: 'health',
  routes,
  links: (base) => [
    { label: 'Liveness', url: `${base}/healthz` },
    { label: 'Readiness (database and Redis checks)', url: `${base}/readyz` },
    { label: 'Prometheus metrics', url: `${base}/metrics` },
  ],
};
