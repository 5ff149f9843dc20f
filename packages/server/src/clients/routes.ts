import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError } from '../platform/errors.ts';
import { ADMIN_ROLES, requireOperator } from '../enrollment/session.ts';
import { ClientErrors } from './errors.ts';
import { ClientRegistry, etagOf, versionFromIfMatch, type RegistryActor } from './registry.ts';
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
    idTokenSignedResponseAlg: rp.idTokenSignedResponseAlg,
    createdAt: new Date(rp.createdAt).toISOString(),
    updatedAt: new Date(rp.updatedAt).toISOString(),
    /** The precondition of an update: send it back as `If-Match: "<version>"` (also the ETag). */
    version: rp.version,
  };
}

/** One client, with its version as the entity tag. */
function single(reply: FastifyReply, rp: RelyingParty) {
  void reply.header('etag', etagOf(rp));
  return present(rp);
}

function actorOf(request: FastifyRequest): RegistryActor {
  const operator = request.operator!;
  return { actorType: 'operator', actorId: operator.id, officeId: operator.office_id, requestId: request.id };
}

/** The admin console's relying-party API: admins only, every change audited. */
export async function clientRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const registry = new ClientRegistry(context.db, context.now, { development: context.config.development });
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

  app.get<{ Params: { clientId: string } }>('/api/v1/admin/clients/:clientId', { preHandler: admin, schema: { params: CLIENT_ID } }, async (request, reply) => {
    const rp = await registry.find(request.params.clientId);
    if (!rp) throw new ApiError(ClientErrors.client_not_found);
    return single(reply, rp);
  });

  // The body is checked by the registry's validator, which names every bad field with a code.
  app.post('/api/v1/admin/clients', { preHandler: admin, schema: { body: { type: 'object' } } }, async (request, reply) =>
    reply.code(201).send(single(reply, await registry.register(request.body, actorOf(request)))),
  );

  // A full replacement of the editable metadata, checked like a registration, only over the
  // version the admin loaded (If-Match): two admins editing at once cannot overwrite each other.
  app.put<{ Params: { clientId: string }; Headers: { 'if-match'?: string } }>(
    '/api/v1/admin/clients/:clientId',
    {
      preHandler: admin,
      schema: {
        params: CLIENT_ID,
        headers: { type: 'object', properties: { 'if-match': { type: 'string', maxLength: 100 } } },
        body: { type: 'object' },
      },
    },
    async (request, reply) => {
      const version = versionFromIfMatch(request.headers['if-match']);
      if (version === undefined) {
        throw new ApiError(ClientErrors.client_precondition_required, {
          detail: 'Send If-Match with the version you edited, e.g. If-Match: "3" (the ETag of GET /api/v1/admin/clients/:clientId).',
        });
      }
      return single(reply, await registry.update(request.params.clientId, request.body, version, actorOf(request)));
    },
  );

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post<{ Params: { clientId: string } }>(
      `/api/v1/admin/clients/:clientId/${action}`,
      { preHandler: admin, schema: { params: CLIENT_ID } },
      async (request, reply) => single(reply, await registry.setStatus(request.params.clientId, status, actorOf(request))),
    );
  }
}
