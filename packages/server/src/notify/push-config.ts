import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { loadNotifyConfig, webPushPolicy, type NotifyConfig } from './config.ts';

export { webPushPolicy };

/** What an app needs to subscribe to pushes before it registers its target. */
export interface DevicePushConfig {
  /** The VAPID public key for `PushManager.subscribe({ applicationServerKey })`; null when Web Push is not configured. */
  readonly webPush: { readonly applicationServerKey: string } | null;
  /** Whether FCM and APNs are configured, so a native app knows which token to register. */
  readonly fcm: boolean;
  readonly apns: boolean;
}

export function devicePushConfig(config: Pick<NotifyConfig, 'vapid' | 'fcm' | 'apns'>): DevicePushConfig {
  return {
    // The uncompressed P-256 point (65 bytes), base64url without padding, as browsers take it.
    webPush: config.vapid ? { applicationServerKey: config.vapid.publicKey } : null,
    fcm: config.fcm !== undefined,
    apns: config.apns !== undefined,
  };
}

/**
 * `GET /api/v1/device/push-config`, beside `PUT /api/v1/device/push-target` in the devices
 * routes: public (an app asks before it has subscribed), rate-limited, and it says nothing a
 * push service does not already learn from every push (the VAPID public key).
 */
export async function pushConfigRoute(app: FastifyInstance, context: AppContext): Promise<void> {
  const body = devicePushConfig(loadNotifyConfig(context.config));
  app.get(
    '/api/v1/device/push-config',
    {
      config: { rateLimit: { max: Math.max(60, Math.floor(context.config.rateLimitPerMinute / 30)), timeWindow: 60_000 } },
      schema: {
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['webPush', 'fcm', 'apns'],
            properties: {
              webPush: {
                type: ['object', 'null'],
                additionalProperties: false,
                required: ['applicationServerKey'],
                properties: { applicationServerKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{87}$' } },
              },
              fcm: { type: 'boolean' },
              apns: { type: 'boolean' },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return body;
    },
  );
}
