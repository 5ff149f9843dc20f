import type { FastifyInstance } from 'fastify';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { reasonJson } from './routes.ts';
import { OPERATOR_ROLES, type OperatorRole } from './schema.ts';
import { inviteOperator, presentOperator, reinviteOperator } from './operators.ts';
import { EnrollmentErrors } from './errors.ts';
import { authenticationOptions, registrationOptions, relyingPartyFor, verifyAuthentication, verifyRegistration } from './webauthn.ts';
import { authenticationJson, registrationJson } from '../platform/webauthn.ts';
import {
  ADMIN_ROLES,
  clearedSessionCookie,
  createSession,
  endOperatorSessions,
  endSession,
  loadSession,
  readSessionToken,
  requireOperator,
  sessionCookie,
} from './session.ts';

/**
 * Strangers may call the sign-in ceremony; a per-address limit of a tenth of the global one
 * (at least 30 a minute) keeps it from being a free oracle or a way to fill the challenge table.
 */
function ceremonyLimit(globalPerMinute: number) {
  return { rateLimit: { max: Math.max(30, Math.floor(globalPerMinute / 10)), timeWindow: 60_000 } };
}

export async function operatorAuthRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const rp = relyingPartyFor(context.config.publicUrl);
  const secure = context.config.publicUrl.startsWith('https://');
  const { db } = context;
  const CEREMONY_LIMIT = ceremonyLimit(context.config.rateLimitPerMinute);

  app.post<{ Body: { token: string } }>(
    '/api/v1/operator/register/options',
    {
      config: CEREMONY_LIMIT,
      schema: { body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 100 } } } },
    },
    async (request) => registrationOptions(db, rp, request.body.token, context.now()),
  );

  app.post<{ Body: { token: string; response: RegistrationResponseJSON } }>(
    '/api/v1/operator/register/verify',
    {
      config: CEREMONY_LIMIT,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'response'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 100 }, response: registrationJson },
        },
      },
    },
    async (request, reply) => {
      const now = context.now();
      const { operatorRow, ...operator } = await verifyRegistration(db, rp, request.body.token, request.body.response, now, request.id);
      const session = await createSession(db, operatorRow.id, now);
      reply.header('set-cookie', sessionCookie(session.token, secure));
      return { operator, csrfToken: session.csrfToken };
    },
  );

  app.post('/api/v1/operator/auth/options', { config: CEREMONY_LIMIT, schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: {} } } }, async () =>
    authenticationOptions(db, rp, context.now()),
  );

  app.post<{ Body: { challengeId: string; response: AuthenticationResponseJSON } }>(
    '/api/v1/operator/auth/verify',
    {
      config: CEREMONY_LIMIT,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['challengeId', 'response'],
          properties: { challengeId: { type: 'string', minLength: 1, maxLength: 64 }, response: authenticationJson },
        },
      },
    },
    async (request, reply) => {
      const now = context.now();
      const operator = await verifyAuthentication(db, rp, request.body.challengeId, request.body.response, now, request.id);
      const session = await createSession(db, operator.id, now);
      reply.header('set-cookie', sessionCookie(session.token, secure));
      return { operator: presentOperator(operator), csrfToken: session.csrfToken };
    },
  );

  app.get('/api/v1/operator/session', async (request) => {
    const token = readSessionToken(request);
    const state = token ? await loadSession(db, token, context.now()) : undefined;
    if (!state) throw new ApiError(CommonErrors.unauthorized);
    const office = await db.selectFrom('offices').selectAll().where('id', '=', state.operator.office_id).executeTakeFirstOrThrow();
    const name = { 'uz-Latn': office.name_uz_latn, 'uz-Cyrl': office.name_uz_cyrl, ru: office.name_ru, en: office.name_en }[request.locale];
    return { operator: presentOperator(state.operator), office: { id: office.id, kind: office.kind, name }, csrfToken: state.csrfToken };
  });

  app.post('/api/v1/operator/sign-out', { preHandler: requireOperator(context) }, async (request, reply) => {
    const token = readSessionToken(request)!;
    const state = await loadSession(db, token, context.now());
    if (state) await endSession(db, state.sessionId, context.now());
    reply.header('set-cookie', clearedSessionCookie(secure));
    return reply.code(204).send();
  });

  app.post<{ Body: { name: string; role: OperatorRole; officeId: string } }>(
    '/api/v1/operator/invitations',
    {
      preHandler: requireOperator(context, ADMIN_ROLES),
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'role', 'officeId'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
            role: { type: 'string', enum: OPERATOR_ROLES },
            officeId: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const admin = request.operator!;
      const invitation = await inviteOperator(
        db,
        { ...request.body, name: request.body.name.trim(), createdBy: admin.id, createdByOffice: admin.office_id, publicUrl: context.config.publicUrl, requestId: request.id },
        context.now(),
      );
      return reply.code(201).send({
        operator: presentOperator(invitation.operator),
        registrationUrl: invitation.registrationUrl,
        expiresAt: new Date(invitation.expiresAt).toISOString(),
      });
    },
  );

  app.get('/api/v1/operator/operators', { preHandler: requireOperator(context, ADMIN_ROLES) }, async () => {
    const rows = await db.selectFrom('operators').selectAll().orderBy('office_id').orderBy('name').limit(1000).execute();
    return { items: rows.map(presentOperator) };
  });

  app.post<{ Params: { operatorId: string }; Body: { reason: string } }>(
    '/api/v1/operator/operators/:operatorId/disable',
    {
      preHandler: requireOperator(context, ADMIN_ROLES),
      schema: {
        params: { type: 'object', properties: { operatorId: { type: 'string', pattern: '^op_[A-Za-z0-9_-]{1,40}$' } }, required: ['operatorId'] },
        body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: reasonJson } },
      },
    },
    async (request) => {
      const now = context.now();
      const admin = request.operator!;
      // The last admin disabling themselves would leave nobody to run the console.
      if (request.params.operatorId === admin.id) throw new ApiError(EnrollmentErrors.operator_self_change);
      const target = await db.selectFrom('operators').selectAll().where('id', '=', request.params.operatorId).executeTakeFirst();
      if (!target) throw new ApiError(CommonErrors.not_found);
      await db.transaction().execute(async (tx) => {
        await tx.updateTable('operators').set({ status: 'disabled', row_version: target.row_version + 1 }).where('id', '=', target.id).execute();
        await recordAudit(
          tx,
          { actorType: 'operator', actorId: admin.id, officeId: admin.office_id, action: 'operator.disabled', reason: request.body.reason.trim(), details: { operatorId: target.id }, requestId: request.id },
          now,
        );
      });
      await endOperatorSessions(db, target.id, now);
      return { operator: presentOperator({ ...target, status: 'disabled' }) };
    },
  );

  app.post<{ Params: { operatorId: string }; Body: { reason: string } }>(
    '/api/v1/operator/operators/:operatorId/reinvite',
    {
      preHandler: requireOperator(context, ADMIN_ROLES),
      schema: {
        params: { type: 'object', properties: { operatorId: { type: 'string', pattern: '^op_[A-Za-z0-9_-]{1,40}$' } }, required: ['operatorId'] },
        body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: reasonJson } },
      },
    },
    async (request, reply) => {
      const invitation = await reinviteOperator(
        db,
        { operatorId: request.params.operatorId, reason: request.body.reason.trim(), admin: request.operator!, publicUrl: context.config.publicUrl, requestId: request.id },
        context.now(),
      );
      return reply.code(201).send({
        operator: presentOperator(invitation.operator),
        registrationUrl: invitation.registrationUrl,
        expiresAt: new Date(invitation.expiresAt).toISOString(),
      });
    },
  );
}
