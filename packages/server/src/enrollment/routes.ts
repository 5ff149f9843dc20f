import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { DEFAULT_LOCALE, LOCALES, type Locale } from '../platform/i18n.ts';
import { PRINTABLE_TEXT_PATTERN } from '../platform/text.ts';
import { listAuditEvents, presentAuditEvent, recordAudit } from '../audit/index.ts';
import type { PopulationRegistry } from '../identity/registry/types.ts';
import { auditBy, pinflRef, type Actor } from './actor.ts';
import { confirmBinding, startBinding } from './bindings.ts';
import { issueActivationCode } from './activation.ts';
import { changeEnrollment, checkPinfl, citizenView, enrollCitizen, lookupCitizen, type LifecycleAction, type LookupQuery } from './service.ts';
import { ENROLLING_ROLES, SUPERVISING_ROLES, requireOperator } from './session.ts';
import { citizenOfficeHistory } from './citizen-offices.ts';
import { pendingBindingJson } from './citizen-view.ts';
import { EnrollmentTexts, localized, notFoundCitizen } from './texts.ts';

const citizenIdParams = {
  type: 'object',
  properties: { citizenId: { type: 'string', pattern: '^cit_[A-Za-z0-9_-]{1,40}$' } },
  required: ['citizenId'],
} as const;
/** Free text a person reads in the audit log: printable (platform/text.ts) and not blank. */
export const reasonJson = { type: 'string', minLength: 1, maxLength: 500, allOf: [{ pattern: PRINTABLE_TEXT_PATTERN }, { pattern: '\\S' }] } as const;
/** The language of the SMS to the citizen (theirs, not the operator's); uz-Latn by default. */
const smsLanguageJson = { type: 'string', enum: LOCALES } as const;
const pinflJson = { type: 'string', minLength: 1, maxLength: 32 } as const;
const documentJson = {
  type: 'object',
  additionalProperties: false,
  required: ['series', 'number'],
  properties: { series: { type: 'string', minLength: 1, maxLength: 4 }, number: { type: 'string', minLength: 1, maxLength: 12 } },
} as const;
const phoneJson = { type: 'string', minLength: 1, maxLength: 40 } as const;

function actorOf(request: FastifyRequest): Actor {
  return { operator: request.operator!, requestId: request.id };
}

function officeName(context: AppContext, officeId: string) {
  return async (locale: Locale): Promise<string> => {
    const office = await context.db.selectFrom('offices').selectAll().where('id', '=', officeId).executeTakeFirst();
    if (!office) return officeId;
    return { 'uz-Latn': office.name_uz_latn, 'uz-Cyrl': office.name_uz_cyrl, ru: office.name_ru, en: office.name_en }[locale];
  };
}

const trimmed = (reason: string | undefined) => (reason === undefined ? null : reason.trim());

export async function enrollmentRoutes(app: FastifyInstance, context: AppContext, registry: PopulationRegistry | undefined, pinflKey: Buffer): Promise<void> {
  const { db } = context;
  const enrolling = requireOperator(context, ENROLLING_ROLES);
  const supervising = requireOperator(context, SUPERVISING_ROLES);
  const requireCitizen = async (citizenId: string) => {
    const found = await db.selectFrom('citizens').select('id').where('id', '=', citizenId).executeTakeFirst();
    if (!found) throw notFoundCitizen();
  };

  app.post<{ Body: LookupQuery & { reason?: string } }>(
    '/api/v1/enrollment/lookup',
    {
      preHandler: enrolling,
      schema: {
        body: {
          oneOf: [
            { type: 'object', additionalProperties: false, required: ['pinfl'], properties: { pinfl: pinflJson, reason: reasonJson } },
            { type: 'object', additionalProperties: false, required: ['document'], properties: { document: documentJson, reason: reasonJson } },
          ],
        },
      },
    },
    async (request) => {
      const { reason, ...query } = request.body;
      return { citizen: await lookupCitizen(db, registry, query as LookupQuery, trimmed(reason), actorOf(request), context.now(), pinflKey) };
    },
  );

  app.post<{ Body: { pinfl: string; document: { series: string; number: string }; reason?: string } }>(
    '/api/v1/enrollment/enrollments',
    {
      preHandler: enrolling,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['pinfl', 'document'],
          properties: { pinfl: pinflJson, document: documentJson, reason: reasonJson },
        },
      },
    },
    async (request, reply) => {
      const { reason, ...input } = request.body;
      return reply.code(201).send({ citizen: await enrollCitizen(db, registry, input, trimmed(reason), actorOf(request), context.now()) });
    },
  );

  app.get<{ Params: { citizenId: string } }>(
    '/api/v1/citizens/:citizenId',
    { preHandler: enrolling, schema: { params: citizenIdParams } },
    async (request) => ({ citizen: await citizenView(db, request.params.citizenId, context.now()) }),
  );

  app.post<{ Params: { citizenId: string }; Body: { phone: string; smsLanguage?: Locale; reason?: string } }>(
    '/api/v1/citizens/:citizenId/phone-binding',
    {
      preHandler: enrolling,
      schema: {
        params: citizenIdParams,
        body: { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone: phoneJson, smsLanguage: smsLanguageJson, reason: reasonJson } },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const now = context.now();
      const started = await startBinding(
        db,
        {
          citizenId: request.params.citizenId,
          phone: request.body.phone,
          rebind: false,
          reason: trimmed(request.body.reason),
          smsLocale: request.body.smsLanguage ?? DEFAULT_LOCALE,
          officeName: officeName(context, actor.operator.office_id),
        },
        actor,
        now,
      );
      return reply.code(201).send({ binding: pendingBindingJson(started.binding, now), notificationId: started.notificationId });
    },
  );

  app.post<{ Params: { citizenId: string }; Body: { bindingId: string; code: string } }>(
    '/api/v1/citizens/:citizenId/phone-binding/confirm',
    {
      preHandler: enrolling,
      schema: {
        params: citizenIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['bindingId', 'code'],
          properties: { bindingId: { type: 'string', minLength: 1, maxLength: 64 }, code: { type: 'string', pattern: '^[0-9]{6}$' } },
        },
      },
    },
    async (request) => {
      await confirmBinding(db, { citizenId: request.params.citizenId, ...request.body }, actorOf(request), context.now());
      return { citizen: await citizenView(db, request.params.citizenId, context.now()) };
    },
  );

  app.post<{ Params: { citizenId: string }; Body: { reason?: string } | null }>(
    '/api/v1/citizens/:citizenId/activation-codes',
    { preHandler: enrolling, schema: { params: citizenIdParams, body: { type: ['object', 'null'], additionalProperties: false, properties: { reason: reasonJson } } } },
    async (request, reply) => {
      const issued = await issueActivationCode(db, request.params.citizenId, context.config.publicUrl, actorOf(request), context.now(), trimmed(request.body?.reason));
      return reply.code(201).send({ code: issued.code, activationUri: issued.activationUri, qrSvg: issued.qrSvg, expiresAt: new Date(issued.expiresAt).toISOString() });
    },
  );

  for (const action of ['suspend', 'resume', 'revoke'] as const satisfies readonly LifecycleAction[]) {
    app.post<{ Params: { citizenId: string }; Body: { reason: string } }>(
      `/api/v1/citizens/:citizenId/${action}`,
      {
        preHandler: supervising,
        schema: { params: citizenIdParams, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: reasonJson } } },
      },
      async (request) => ({ citizen: await changeEnrollment(db, request.params.citizenId, action, request.body.reason.trim(), actorOf(request), context.now()) }),
    );
  }

  app.post<{ Params: { citizenId: string }; Body: { reason: string; phone: string; smsLanguage?: Locale } }>(
    '/api/v1/citizens/:citizenId/rebind',
    {
      preHandler: supervising,
      schema: {
        params: citizenIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason', 'phone'],
          properties: { reason: reasonJson, phone: phoneJson, smsLanguage: smsLanguageJson },
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const now = context.now();
      const started = await startBinding(
        db,
        {
          citizenId: request.params.citizenId,
          phone: request.body.phone,
          rebind: true,
          reason: request.body.reason.trim(),
          smsLocale: request.body.smsLanguage ?? DEFAULT_LOCALE,
          officeName: officeName(context, actor.operator.office_id),
        },
        actor,
        now,
      );
      return reply.code(201).send({ binding: pendingBindingJson(started.binding, now), notificationId: started.notificationId });
    },
  );

  app.get<{ Params: { citizenId: string } }>(
    '/api/v1/citizens/:citizenId/history',
    { preHandler: enrolling, schema: { params: citizenIdParams } },
    async (request) => {
      await requireCitizen(request.params.citizenId);
      const rows = await listAuditEvents(db, { citizenId: request.params.citizenId, limit: 500 });
      return { items: rows.map(presentAuditEvent) };
    },
  );

  app.get<{ Params: { citizenId: string } }>(
    '/api/v1/citizens/:citizenId/offices',
    { preHandler: enrolling, schema: { params: citizenIdParams } },
    async (request) => {
      await requireCitizen(request.params.citizenId);
      return { items: await citizenOfficeHistory(db, request.params.citizenId, request.locale) };
    },
  );

  /**
   * Who looked a person up in the registry, found by their PINFL (in the body, never the URL)
   * through the keyed reference each `registry.lookup` records, also for people never
   * enrolled. The search is itself audited: it reads who took an interest in someone.
   */
  app.post<{ Body: { pinfl: string; reason: string } }>(
    '/api/v1/audit/lookups',
    {
      preHandler: supervising,
      schema: { body: { type: 'object', additionalProperties: false, required: ['pinfl', 'reason'], properties: { pinfl: pinflJson, reason: reasonJson } } },
    },
    async (request) => {
      const now = context.now();
      const ref = pinflRef(pinflKey, checkPinfl(request.body.pinfl, now));
      const rows = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'registry.lookup')
        .where('details', 'like', `%${ref}%`)
        .orderBy('id', 'desc')
        .limit(200)
        .execute();
      // LIKE's `_` matches any character: keep only the exact reference.
      const items = rows.map(presentAuditEvent).filter((e) => e.details.subjectRef === ref);
      await recordAudit(db, auditBy(actorOf(request), { action: 'audit.lookups_searched', reason: request.body.reason.trim(), details: { subjectRef: ref, found: items.length } }), now);
      return { items };
    },
  );

  app.get<{ Querystring: { citizenId?: string; before?: string; limit: number } }>(
    '/api/v1/audit',
    {
      preHandler: enrolling,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            citizenId: { type: 'string', pattern: '^cit_[A-Za-z0-9_-]{1,40}$' },
            before: { type: 'string', pattern: '^aud_[0-9a-f]{1,40}$' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            lang: { type: 'string', maxLength: 16 },
          },
        },
      },
    },
    async (request) => {
      const { citizenId, before, limit } = request.query;
      if (!citizenId && !SUPERVISING_ROLES.includes(request.operator!.role)) {
        throw new ApiError(CommonErrors.forbidden, localized(EnrollmentTexts.auditOneCitizen));
      }
      const rows = await listAuditEvents(db, { citizenId, before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { items: page.map(presentAuditEvent), next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
    },
  );
}
