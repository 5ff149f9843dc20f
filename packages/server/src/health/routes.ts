import type { FastifyInstance } from 'fastify';
import type { AppContext, TasdiqModule } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';

const READY_TIMEOUT_MS = 2_000;

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

  app.get('/readyz', { config: noLimit }, async (request) => {
    try {
      await withTimeout(context.database.ping(), READY_TIMEOUT_MS);
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      throw new ApiError(CommonErrors.service_unavailable, { detail: 'database did not answer' });
    }
    return { status: 'ready', database: context.dialect };
  });

  app.get('/metrics', { config: noLimit }, async (_request, reply) => {
    reply.type(context.metrics.registry.contentType);
    return context.metrics.registry.metrics();
  });
}

export const healthModule: TasdiqModule = {
  name: 'health',
  routes,
  links: (base) => [
    { label: 'Liveness', url: `${base}/healthz` },
    { label: 'Readiness (checks the database)', url: `${base}/readyz` },
    { label: 'Prometheus metrics', url: `${base}/metrics` },
  ],
};
