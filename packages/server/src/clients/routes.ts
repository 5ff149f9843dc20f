import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError } from '../platform/errors.ts';
import { ADMIN_ROLES, requireOperator } from '../enrollment/session.ts';
import { ClientErrors } from './errors.ts';
import { ClientRegistry, type RegistryActor } from './registry.ts';
import type { RelyingParty } from './repository.ts';
import { CLIENT_STATUSES, type ClientStatus } from './schema.ts';

const CLIENT_ID = { type: 'object', properties: { clientId: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,63}$' } }, required: ['clientId'] } as const;

/** A registration as the console shows it: everything but nothing secret (there is nothing secret). */
function present(rp: RelyingParty) {
  return {
    clientId: rp.clientId,
    name: rp.name,
    status: rp.status,
    redirectUris: rp.redirectUris,
    postLogoutRedirectUris: rp.postLogoutRedirectUris,
    tokenEndpointAuthMethod: rp.tokenEndpointAuthMethod,
    jwks: rp.jwks,
    jwksUri: rp.jwksUri,
    tlsClientAuthSubjectDn: rp.tlsClientAuthSubjectDn,
    scopes: rp.scopes,
    acrValues: rp.acrValues,
    sectorIdentifier: rp.sectorIdentifier,
    subjectType: rp.subjectType,
    fapi: rp.fapi,
    contacts: rp.contacts,
    backchannelLogoutUri: rp.backchannelLogoutUri,
    cibaDeliveryMode: rp.cibaDeliveryMode,
    cibaNotificationEndpoint: rp.cibaNotificationEndpoint,
    createdAt: new Date(rp.createdAt).toISOString(),
    updatedAt: new Date(rp.updatedAt).toISOString(),
  };
}

function actorOf(request: FastifyRequest): RegistryActor {
  const operator = request.operator!;
  return { actorType: 'operator', actorId: operator.id, officeId: operator.office_id, requestId: request.id };
}

/** The admin console's relying-party API: admins only, every change audited. */
export async function clientRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const registry = new ClientRegistry(context.db, context.now);
  const admin = requireOperator(context, ADMIN_ROLES);

  app.get<{ Querystring: { status?: ClientStatus; after?: string; limit: number } }>(
    '/api/v1/admin/clients',
    {
      preHandler: admin,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: CLIENT_STATUSES },
            after: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            lang: { type: 'string', maxLength: 16 },
          },
        },
      },
    },
    async (request) => {
      const { status, after, limit } = request.query;
      const rows = await registry.list({ ...(status ? { status } : {}), ...(after ? { after } : {}), limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { items: page.map(present), next: rows.length > limit ? (page.at(-1)?.clientId ?? null) : null };
    },
  );

  app.get<{ Params: { clientId: string } }>('/api/v1/admin/clients/:clientId', { preHandler: admin, schema: { params: CLIENT_ID } }, async (request) => {
    const rp = await registry.find(request.params.clientId);
    if (!rp) throw new ApiError(ClientErrors.client_not_found);
    return present(rp);
  });

  // The body is checked by the registry's validator, which names every bad field with a code.
  app.post('/api/v1/admin/clients', { preHandler: admin, schema: { body: { type: 'object' } } }, async (request, reply) =>
    reply.code(201).send(present(await registry.register(request.body, actorOf(request)))),
  );

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post<{ Params: { clientId: string } }>(
      `/api/v1/admin/clients/:clientId/${action}`,
      { preHandler: admin, schema: { params: CLIENT_ID } },
      async (request) => present(await registry.setStatus(request.params.clientId, status, actorOf(request))),
    );
  }
}
