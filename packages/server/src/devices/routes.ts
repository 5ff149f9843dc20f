import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { printableText } from '../platform/text.ts';
import type { DeviceCa } from './ca.ts';
import type { DeviceAuthenticator } from './protocol.ts';
import { installDeviceProtocol } from './protocol.ts';
import { revokeDevices, type DeviceService } from './service.ts';
import type { DeviceDependencies } from './ports.ts';
import { registerPushTarget, type PushTargetInput } from '../notify/push-targets.ts';
import { pushConfigRoute, webPushPolicy } from '../notify/push-config.ts';
import { citizenOfficeHistory } from '../enrollment/citizen-offices.ts';
import { historyRoutes } from './history-routes.ts';
import { MAX_CHAIN_LENGTH, type KeyAttestation } from './attestation.ts';
import { registrationJson } from '../platform/webauthn.ts';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';

const b64url = { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } as const;
/** A certificate chain, DER base64, leaf first: Android chains hold 3 to 5 certificates of 1-2 KB. */
const certificateChain = {
  type: 'array',
  minItems: 2,
  maxItems: MAX_CHAIN_LENGTH,
  items: { type: 'string', minLength: 100, maxLength: 8192, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
} as const;

export function deviceRoutes(services: { ca: DeviceCa; devices: DeviceService; authenticator: DeviceAuthenticator; deps: DeviceDependencies }) {
  return async function routes(app: FastifyInstance, context: AppContext): Promise<void> {
    const { ca, devices, authenticator, deps } = services;
    const requireDevice = installDeviceProtocol(app, authenticator);
    await historyRoutes(app, context, requireDevice);
    // Codes fall only to volume: 10 tries per address per minute by default, scaled with the
    // configured limit so a load test can activate its fleet of simulated devices.
    const activationsPerMinute = Math.max(10, Math.floor(context.config.rateLimitPerMinute / 30));
    // Where a device's Web Push subscription may point (the push services; loopback in development).
    const pushPolicy = webPushPolicy(context.config);

    app.post<{ Body: { activationCode: string; authKey: string; signKey: string; authProof: string; signProof: string; label?: string; keyAttestation?: KeyAttestation; userVerification?: RegistrationResponseJSON } }>(
      '/api/v1/device/activate',
      {
        config: { rateLimit: { max: activationsPerMinute, timeWindow: 60_000 } },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['activationCode', 'authKey', 'signKey', 'authProof', 'signProof'],
            properties: {
              activationCode: { type: 'string', minLength: 4, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' },
              authKey: { ...b64url, minLength: 80, maxLength: 200 },
              signKey: { ...b64url, minLength: 80, maxLength: 200 },
              authProof: { ...b64url, minLength: 86, maxLength: 86 },
              signProof: { ...b64url, minLength: 86, maxLength: 86 },
              label: printableText(64),
              userVerification: registrationJson,
              keyAttestation: {
                type: 'object',
                required: ['format'],
                properties: { format: { type: 'string', enum: ['android-key', 'apple-appattest'] } },
                oneOf: [
                  {
                    additionalProperties: false,
                    required: ['format', 'authChain', 'signChain'],
                    properties: { format: { const: 'android-key' }, authChain: certificateChain, signChain: certificateChain },
                  },
                  {
                    additionalProperties: false,
                    required: ['format', 'keyId', 'attestationObject'],
                    properties: {
                      format: { const: 'apple-appattest' },
                      keyId: { type: 'string', minLength: 44, maxLength: 44, pattern: '^[A-Za-z0-9+/]{43}=$' },
                      attestationObject: { type: 'string', minLength: 100, maxLength: 24_000, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
                    },
                  },
                ],
              },
            },
          },
        },
      },
      async (request, reply) => {
        const result = await devices.activate(request.body, request.id);
        return reply.code(201).send(result);
      },
    );

    app.get('/api/v1/device/me', { preHandler: requireDevice }, async (request) => {
      const d = request.device!;
      return { deviceId: d.id, status: d.status, counter: d.counter, assurance: d.assurance, keyStorage: d.key_storage, userVerification: d.uv_credential_id ? 'passkey' : 'app', label: d.label, createdAt: d.created_at, certificatesNotAfter: d.cert_not_after };
    });

    /**
     * Which offices enrolled or changed the citizen (issue 3), for the app's history screen.
     * Signed like every device call: the citizen is the device's, never a parameter.
     */
    app.get('/api/v1/me/offices', { preHandler: requireDevice }, async (request) => ({
      items: await citizenOfficeHistory(context.db, request.device!.citizen_id, request.locale),
    }));

    /** Fresh certificates for the same keys, in the last weeks of the current ones. */
    app.post('/api/v1/device/certificates/renew', { preHandler: requireDevice }, async (request) => devices.renew(request.device!, request.id));

    /** A device retiring itself (the citizen removed the app or reset it). */
    app.post('/api/v1/device/revoke', { preHandler: requireDevice }, async (request) => {
      const d = request.device!;
      const now = context.now();
      await context.db.transaction().execute(async (tx) => {
        await revokeDevices(tx, { citizenId: d.citizen_id, deviceId: d.id }, 'device_revoked', now);
        await deps.audit(tx, { actorType: 'device', actorId: d.id, action: 'device.revoked', subjectCitizenId: d.citizen_id, reason: 'device_revoked', requestId: request.id }, now);
      });
      return { deviceId: d.id, status: 'revoked' };
    });

    /** Where pushes for this device go (Web Push in the PWA, FCM/APNs in native apps). */
    app.put<{ Body: PushTargetInput }>(
      '/api/v1/device/push-target',
      {
        preHandler: requireDevice,
        schema: {
          body: {
            type: 'object',
            required: ['kind'],
            properties: {
              kind: { type: 'string', enum: ['webpush', 'fcm', 'apns'] },
              token: { type: 'string', minLength: 1, maxLength: 4096 },
              subscription: { type: 'object' },
            },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const d = request.device!;
        const { id } = await registerPushTarget(context.db, d.id, request.body, context.now(), pushPolicy);
        return { pushTargetId: id };
      },
    );

    /** The VAPID key (and which native push services are configured) an app subscribes with. */
    await pushConfigRoute(app, context);

    app.get('/api/v1/device/ca/certificate', async (_request, reply) => {
      const root = await ca.root();
      return reply.type('application/pem-certificate-chain').send(root.cert.toString('pem'));
    });

    app.get('/api/v1/device/ca/crl', async (_request, reply) => {
      return reply.type('application/pkix-crl').header('cache-control', 'max-age=60').send(Buffer.from(await ca.crl()));
    });
  };
}
