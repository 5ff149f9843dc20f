import type { FastifyInstance } from 'fastify';
import { ApiError } from '../platform/errors.ts';
import type { DeviceAuthenticator } from '../devices/protocol.ts';
import { installDeviceProtocol } from '../devices/protocol.ts';
import { OidcErrors } from './errors.ts';
import type { OidcService } from './service.ts';

/**
 * The citizen's consents, for the Tasdiq app: which services may receive what, and
 * withdrawal. Requests are signed by the citizen's activated device.
 */
export async function consentRoutes(app: FastifyInstance, oidc: OidcService, devices: DeviceAuthenticator): Promise<void> {
  const requireDevice = installDeviceProtocol(app, devices);

  app.get('/api/v1/device/consents', { preHandler: requireDevice }, async (request) => {
    const citizenId = request.device!.citizen_id;
    const consents = await oidc.consents.listForCitizen(citizenId);
    const items = [];
    for (const consent of consents) {
      const rp = await oidc.registry.find(consent.clientId);
      items.push({ clientId: consent.clientId, name: rp?.name[request.locale] ?? consent.clientId, scopes: consent.scopes, claims: consent.claims, grantedAt: consent.grantedAt });
    }
    return { items };
  });

  app.delete<{ Params: { clientId: string } }>(
    '/api/v1/device/consents/:clientId',
    {
      preHandler: requireDevice,
      schema: { params: { type: 'object', properties: { clientId: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,63}$' } }, required: ['clientId'] } },
    },
    async (request, reply) => {
      const device = request.device!;
      const withdrawn = await oidc.withdrawConsent(device.citizen_id, request.params.clientId, { deviceId: device.id, requestId: request.id });
      if (!withdrawn) throw new ApiError(OidcErrors.consent_not_found);
      return reply.code(204).send();
    },
  );
}
