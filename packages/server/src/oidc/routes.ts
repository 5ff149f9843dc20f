import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OidcService } from './service.ts';
import { interactionRoutes } from './interaction-routes.ts';
import { consentRoutes } from './consent-routes.ts';
import type { DeviceAuthenticator } from '../devices/protocol.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { OIDC_ROUTES } from './provider.ts';

/** The back-channel endpoints relying parties' servers call, rate-limited per client. */
const CLIENT_ENDPOINTS = ['/oidc/token', '/oidc/par', '/oidc/backchannel', '/oidc/introspect', '/oidc/revoke'] as const;
/**
 * The endpoints the provider serves (with their sub-paths, such as an authorization resumed
 * after sign-in); the routes it only names because it must (device flow, registration) are not
 * among them.
 */
const PROVIDER_PATHS = [
  OIDC_ROUTES.authorization,
  OIDC_ROUTES.backchannel_authentication,
  OIDC_ROUTES.end_session,
  OIDC_ROUTES.introspection,
  OIDC_ROUTES.jwks,
  OIDC_ROUTES.pushed_authorization_request,
  OIDC_ROUTES.revocation,
  OIDC_ROUTES.token,
  OIDC_ROUTES.userinfo,
];

/** Whether the provider serves `url`: elsewhere under /oidc the answer is the service's own 404 problem, not the provider's plain text. */
export function servedByProvider(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return PROVIDER_PATHS.some((served) => path === served || path.startsWith(`${served}/`));
}

/** oidc-provider's own limit on a request body. */
const BODY_LIMIT = 56 * 1024;

/**
 * The client a back-channel request names: its `client_id`, or the `sub` of its client
 * assertion (private_key_jwt). Unverified: it only chooses the rate-limit bucket; the provider
 * authenticates the client.
 */
export function claimedClientId(body: unknown): string | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  const params = new URLSearchParams(body.toString('latin1'));
  const direct = params.get('client_id');
  if (direct) return direct.length <= 64 ? direct : undefined;
  const assertion = params.get('client_assertion');
  const payload = assertion?.split('.')[1];
  if (!payload || payload.length > 8192) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub.length <= 64 ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request as the provider should see it once its body was read here: the same message
 * (headers, method, URL, socket), its body readable again from the bytes read.
 */
function replayed(raw: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = Readable.from([body], { objectMode: false });
  return Object.assign(stream, {
    headers: raw.headers,
    rawHeaders: raw.rawHeaders,
    method: raw.method,
    url: raw.url,
    httpVersion: raw.httpVersion,
    httpVersionMajor: raw.httpVersionMajor,
    httpVersionMinor: raw.httpVersionMinor,
    socket: raw.socket,
    connection: raw.socket,
    complete: true,
    trailers: {},
    rawTrailers: [],
  }) as unknown as IncomingMessage;
}

/**
 * oidc-provider answers its own endpoints (under /oidc and the discovery document); Fastify
 * in front gives them request ids, the rate limit and metrics, then hands over the raw
 * request. The provider reads the body itself, so this scope parses none, except at the
 * back-channel endpoints: there the form is read first to find the client it names, so that
 * agencies' servers sharing an address are limited each on its own (per client and address,
 * `TASDIQ_OIDC_CLIENT_RATE_LIMIT_PER_MINUTE`); the provider then reads the same bytes.
 */
export async function providerRoutes(app: FastifyInstance, oidc: OidcService, devices: DeviceAuthenticator): Promise<void> {
  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    // The headers every answer carries (request id, nosniff, referrer policy, HSTS, the rate
    // limit's) were set on the reply, which a hijacked request no longer writes.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
    // A body read here is handed over as the same bytes, for the provider to read and parse itself.
    await oidc.callback(Buffer.isBuffer(request.body) ? replayed(request.raw, request.body) : request.raw, reply.raw);
  };
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.get('/.well-known/openid-configuration', handOver);
    scope.all('/oidc/*', async (request, reply) => {
      if (!servedByProvider(request.url)) throw new ApiError(CommonErrors.not_found);
      return handOver(request, reply);
    });
  });
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
    const { rateLimitPerMinute, oidcClientRateLimitPerMinute } = oidc.context.config;
    const known = new Map<string, { active: boolean; until: number }>();
    /** Whether a client id names an active relying party (remembered for a few seconds, bounded). */
    const isClient = async (clientId: string): Promise<boolean> => {
      const now = Date.now();
      const cached = known.get(clientId);
      if (cached && cached.until > now) return cached.active;
      const active = (await oidc.registry.findActive(clientId)) !== undefined;
      if (known.size >= 10_000) known.clear();
      known.set(clientId, { active, until: now + 10_000 });
      return active;
    };
    const rateLimit = {
      // After the body is read, so the key can name the client.
      hook: 'preHandler' as const,
      timeWindow: 60_000,
      keyGenerator: async (request: FastifyRequest) => {
        const clientId = claimedClientId(request.body);
        // A registered client gets its own bucket at this address; anything else shares the address's.
        return clientId && (await isClient(clientId)) ? `oidc-client:${clientId}:${request.ip}` : `oidc-address:${request.ip}`;
      },
      max: async (_request: FastifyRequest, key: string) => (key.startsWith('oidc-client:') ? oidcClientRateLimitPerMinute : rateLimitPerMinute),
    };
    for (const path of CLIENT_ENDPOINTS) scope.post(path, { config: { rateLimit } }, handOver);
  });
  await app.register(async (scope) => interactionRoutes(scope, oidc));
  await app.register(async (scope) => consentRoutes(scope, oidc, devices));
}
