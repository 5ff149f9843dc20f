import { once } from 'node:events';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError } from '../platform/errors.ts';
import { printableText } from '../platform/text.ts';
import { installDeviceProtocol, type DeviceAuthenticator } from '../devices/protocol.ts';
import { AuthErrors } from './errors.ts';
import { authenticationJson } from '../platform/webauthn.ts';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { sessionEvents } from './store.ts';
import type { AuthService, SessionView } from './service.ts';
import { INTERACTIONS, SESSION_MODES, type Interaction } from './schema.ts';
import QRCode from 'qrcode';
import { signinPageRoutes } from './signin/routes.ts';

const subject = {
  pinfl: { type: 'string', minLength: 1, maxLength: 32 },
  phone: { type: 'string', minLength: 1, maxLength: 32 },
  serviceId: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
  serviceName: printableText(100),
  reason: printableText(200),
  // confirmation_message: the phone shows `reason` to confirm instead of the code choice.
  interaction: { type: 'string', enum: INTERACTIONS },
} as const;
const sessionParams = { type: 'object', properties: { id: { type: 'string', pattern: '^as_[A-Za-z0-9_-]{22}$' } }, required: ['id'] } as const;
const MAX_WAIT_MS = 30_000;

function bearer(request: FastifyRequest): string {
  const value = request.headers.authorization;
  const match = typeof value === 'string' ? /^Bearer ([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!match) throw new ApiError(AuthErrors.auth_session_not_found);
  return match[1]!;
}

interface StartBody {
  pinfl?: string;
  phone?: string;
  serviceId: string;
  serviceName: string;
  reason?: string;
  interaction?: Interaction;
  mode: (typeof SESSION_MODES)[number];
  origin?: string;
  hash?: string;
}

export function authRoutes(auth: AuthService, authenticator: DeviceAuthenticator) {
  return async function routes(app: FastifyInstance, context: AppContext): Promise<void> {
    const requireDevice = installDeviceProtocol(app, authenticator);

    app.post<{ Body: StartBody }>(
      '/api/v1/auth/sessions',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['serviceId', 'serviceName'],
            properties: {
              ...subject,
              mode: { type: 'string', enum: SESSION_MODES, default: 'app' },
              // The relying party's own challenge (base64url SHA-256), signed with the rest, as
              // Smart-ID's authentication hash: the result then proves an answer to it.
              hash: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' },
              // A host name (and port), as the WebOTP line `@origin #code` names it.
              origin: { type: 'string', pattern: '^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$' },
            },
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        if (b.mode !== 'app' && b.hash) {
          throw new ApiError('validation_failed', { errors: [{ field: 'body.hash', code: 'mode', message: 'only the app signs a hash; an SMS code signs nothing' }] });
        }
        if (b.mode === 'sms_otp' && !b.origin) {
          throw new ApiError('validation_failed', { errors: [{ field: 'body.origin', code: 'required', message: 'sms_otp needs the origin the code is for' }] });
        }
        const started = await auth.start({ kind: 'auth', mode: b.mode, interaction: b.interaction, pinfl: b.pinfl, phone: b.phone, clientId: b.serviceId, serviceName: b.serviceName, reason: b.reason, origin: b.origin, documentHash: b.hash, locale: request.locale, requestId: request.id, alongside: request.owed?.rows });
        request.owed?.written();
        return reply.code(201).send(started);
      },
    );

    app.post<{ Body: Omit<StartBody, 'mode' | 'origin'> & { documentHash: string; documentName: string } }>(
      '/api/v1/sign/sessions',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['serviceId', 'serviceName', 'documentHash', 'documentName'],
            properties: {
              ...subject,
              documentHash: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' },
              documentName: printableText(200),
            },
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const started = await auth.start({ kind: 'sign', mode: 'app', interaction: b.interaction, pinfl: b.pinfl, phone: b.phone, clientId: b.serviceId, serviceName: b.serviceName, reason: b.reason, documentHash: b.documentHash, documentName: b.documentName, locale: request.locale, requestId: request.id, alongside: request.owed?.rows });
        request.owed?.written();
        return reply.code(201).send(started);
      },
    );

    /** The result, long-polled: answers when the session completes or after `timeoutMs`. */
    app.get<{ Params: { id: string }; Querystring: { timeoutMs: number } }>(
      '/api/v1/auth/sessions/:id',
      { schema: { params: sessionParams, querystring: { type: 'object', additionalProperties: false, properties: { timeoutMs: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS, default: 0 } } } } },
      async (request): Promise<SessionView> => {
        const token = bearer(request);
        const deadline = Date.now() + request.query.timeoutMs;
        for (;;) {
          const session = await auth.forStarter(request.params.id, token);
          const remaining = deadline - Date.now();
          if (session.state === 'complete' || remaining <= 0 || context.closing.aborted) return auth.view(session);
          // Woken at once by a completion in this process (the timer covers other instances), and
          // by the service closing, so a shutdown never waits out a long poll.
          const signal = AbortSignal.any([AbortSignal.timeout(Math.min(remaining, 500)), context.closing]);
          await once(sessionEvents, request.params.id, { signal }).catch(() => undefined);
        }
      },
    );

    // The starter withdraws its session (the citizen closed the page): the phone's request ends
    // CANCELLED and the citizen may be asked again at once. A session already over is returned as is.
    app.delete<{ Params: { id: string } }>('/api/v1/auth/sessions/:id', { schema: { params: sessionParams } }, async (request) => auth.cancel(request.params.id, bearer(request)));

    app.get<{ Params: { id: string } }>('/api/v1/auth/sessions/:id/qr', { schema: { params: sessionParams } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const current = await auth.currentQr(request.params.id, bearer(request));
      return { ...current, svg: await QRCode.toString(current.qr, { type: 'svg', errorCorrectionLevel: 'L', margin: 2 }) };
    });

    app.post<{ Params: { id: string }; Body: { code: string } }>(
      '/api/v1/auth/sessions/:id/otp',
      {
        config: { rateLimit: { max: 30, timeWindow: 60_000 } },
        schema: { params: sessionParams, body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } } } },
      },
      async (request) => auth.verifyOtp(request.params.id, bearer(request), request.body.code),
    );

    // The device's signed request and its pending session are checked and read together.
    app.get('/api/v1/device/requests/pending', async (request) => {
      const { device, rider } = await authenticator.authenticateWith(request, auth.pendingRider);
      request.device = device;
      return { request: await auth.pendingFor(device, rider) };
    });

    app.post<{ Params: { id: string }; Body: { verificationCode?: string; signature: string; userVerification?: AuthenticationResponseJSON } }>(
      '/api/v1/device/requests/:id/confirm',
      {
        schema: {
          params: sessionParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['signature'],
            properties: { verificationCode: { type: 'string', pattern: '^[0-9]{4}$' }, signature: { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' }, userVerification: authenticationJson },
          },
        },
      },
      // The request's counter moves forward in the statement that completes the session.
      async (request) => {
        const { profile, counter } = await authenticator.checkDeferringCounter(request);
        return auth.confirm(request.params.id, profile, request.body, counter);
      },
    );

    app.post<{ Params: { id: string } }>('/api/v1/device/requests/:id/refuse', { preHandler: requireDevice, schema: { params: sessionParams } }, async (request) =>
      auth.refuse(request.params.id, request.device!),
    );

    app.post<{ Body: { qr: string } }>(
      '/api/v1/device/link',
      { preHandler: requireDevice, schema: { body: { type: 'object', additionalProperties: false, required: ['qr'], properties: { qr: { type: 'string', maxLength: 200 } } } } },
      async (request) => ({ request: await auth.link(request.body.qr, request.device!) }),
    );
    // The demo sign-in page starts sessions as an anonymous caller, which only development
    // allows (production requires a relying party's client assertion): it is not served there.
    if (context.config.development) await signinPageRoutes(app);
  };
}
