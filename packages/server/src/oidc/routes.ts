import type { FastifyInstance } from 'fastify';
import type { OidcService } from './service.ts';
import { interactionRoutes } from './interaction-routes.ts';
import { consentRoutes } from './consent-routes.ts';
import type { DeviceAuthenticator } from '../devices/protocol.ts';

/**
 * oidc-provider answers its own endpoints (under /oidc and the discovery document); Fastify
 * in front gives them request ids, the rate limit and metrics, then hands over the raw
 * request. The provider reads the body itself, so this scope parses none.
 */
export async function providerRoutes(app: FastifyInstance, oidc: OidcService, devices: DeviceAuthenticator): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handOver = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      reply.hijack();
      reply.raw.setHeader('x-request-id', request.id);
      await oidc.callback(request.raw, reply.raw);
    };
    scope.get('/.well-known/openid-configuration', handOver);
    scope.all('/oidc/*', handOver);
  });
  await app.register(async (scope) => interactionRoutes(scope, oidc));
  await app.register(async (scope) => consentRoutes(scope, oidc, devices));
}
