import type { FastifyInstance } from 'fastify';
import type { TasdiqModule } from '../platform/module.ts';
import { buildDocument, type CapturedRoute, type OpenApiDocument } from './document.ts';
import { REFERENCE_CSS, renderReference } from './reference.ts';
import { CLIENT_AUTH_ROUTES, clientAssertionCheck, clientAuthMigrations, withOwedRows } from './client-auth.ts';

export { buildDocument, type OpenApiDocument, type OperationDoc } from './document.ts';
export { COMPONENT_SCHEMAS } from './schemas.ts';

const PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Modules register in sibling scopes, and a hook only sees routes of its own scope and below.
 * The document must describe every module, so the route hook goes on the root instance, which
 * Fastify makes the prototype of each registered scope.
 */
function rootOf(scope: FastifyInstance): FastifyInstance {
  let instance = scope;
  for (;;) {
    const parent = Object.getPrototypeOf(instance) as FastifyInstance | null;
    if (!parent || typeof parent.addHook !== 'function' || typeof parent.route !== 'function') return instance;
    instance = parent;
  }
}

/**
 * Serves the API's OpenAPI 3.1 document at /openapi.json and a reference page at /docs/api.
 * Also authenticates relying parties that start sessions (client-auth.ts). Listed first in
 * MODULES: it sees only the routes registered after it.
 */
export const openapiModule: TasdiqModule = {
  name: 'openapi',
  migrations: clientAuthMigrations,
  async routes(app, context) {
    const routes: CapturedRoute[] = [];
    const checkClientAssertion = clientAssertionCheck({
      db: context.db,
      publicUrl: context.config.publicUrl,
      now: context.now,
      anonymousAllowed: context.config.development,
    });
    rootOf(app).addHook('onRoute', (route) => {
      routes.push({ method: route.method, url: route.url, schema: route.schema as Record<string, unknown> | undefined });
      // The auth routes are another module's: the caller check is added to them from here.
      if (route.method === 'POST' && CLIENT_AUTH_ROUTES.has(route.url)) {
        route.preHandler = [...[route.preHandler ?? []].flat(), checkClientAssertion];
        route.handler = withOwedRows(context.db, route.handler as never);
      }
    });
    let document: Promise<OpenApiDocument> | undefined;
    const current = () => (document ??= buildDocument(routes, { publicUrl: context.config.publicUrl }).catch((error: unknown) => {
      document = undefined;
      throw error;
    }));

    app.get('/openapi.json', async (_request, reply) => {
      reply.header('cache-control', 'no-cache').header('access-control-allow-origin', '*');
      return current();
    });
    app.get('/docs/api', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_POLICY).header('cache-control', 'no-cache').send(renderReference(await current())),
    );
    app.get('/docs/api/reference.css', async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('content-security-policy', PAGE_POLICY).header('cache-control', 'public, max-age=3600').send(REFERENCE_CSS),
    );
  },
  links: (baseUrl) => [
    { label: 'API reference', url: `${baseUrl}/docs/api` },
    { label: 'OpenAPI document', url: `${baseUrl}/openapi.json` },
  ],
};
