import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../platform/db/index.ts';
import type { Locale } from '../platform/i18n.ts';
import type { AppContext } from '../platform/module.ts';
import type { Device } from './schema.ts';

/** What the citizen's history shows of the audit log: their sign-ins, signatures, devices and enrollment. */
const DEVICE_ACTIONS = ['auth.session_completed', 'device.activated', 'device.revoked'] as const;
const AUDIT_ID = '^aud_[0-9a-f]{28}$';
const DEFAULT_PAGE = 20;
const MAX_PAGE = 50;

export interface HistoryItem {
  readonly id: string;
  readonly at: string;
  readonly type: 'sign_in' | 'signature' | 'device' | 'enrollment';
  readonly action: string;
  readonly result: string | null;
  readonly mode: string | null;
  readonly service: string | null;
  readonly documentName: string | null;
  readonly office: string | null;
  readonly thisDevice: boolean;
}

const nullableString = { type: ['string', 'null'] } as const;
const historyResponse = {
  type: 'object',
  required: ['items', 'next'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'at', 'type', 'action', 'result', 'mode', 'service', 'documentName', 'office', 'thisDevice'],
        properties: {
          id: { type: 'string' },
          at: { type: 'string' },
          type: { type: 'string', enum: ['sign_in', 'signature', 'device', 'enrollment'] },
          action: { type: 'string' },
          result: nullableString,
          mode: nullableString,
          service: nullableString,
          documentName: nullableString,
          office: nullableString,
          thisDevice: { type: 'boolean' },
        },
      },
    },
    next: nullableString,
  },
} as const;

function localName(row: { name_uz_latn: string; name_uz_cyrl: string; name_ru: string; name_en: string }, locale: Locale): string {
  return { 'uz-Latn': row.name_uz_latn, 'uz-Cyrl': row.name_uz_cyrl, ru: row.name_ru, en: row.name_en }[locale];
}

function detailsOf(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const stringOr = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * A page of the citizen's own history, newest first, from the audit log. Only what the citizen
 * owns leaves: which service asked, what for, how it ended, when, and which office acted; never
 * operator identities, other citizens, free-text reasons or internal ids beyond the event's own.
 */
export async function citizenHistory(db: Db, device: Device, locale: Locale, page: { before?: string | undefined; limit: number }): Promise<{ items: HistoryItem[]; next: string | null }> {
  let query = db
    .selectFrom('audit_events')
    .leftJoin('offices', 'offices.id', 'audit_events.office_id')
    .select([
      'audit_events.id',
      'audit_events.at',
      'audit_events.action',
      'audit_events.actor_type',
      'audit_events.actor_id',
      'audit_events.details',
      'offices.name_uz_latn',
      'offices.name_uz_cyrl',
      'offices.name_ru',
      'offices.name_en',
    ])
    .where('audit_events.subject_citizen_id', '=', device.citizen_id)
    .where((eb) => eb.or([eb('audit_events.action', 'in', DEVICE_ACTIONS), eb('audit_events.action', 'like', 'enrollment.%')]));
  if (page.before) query = query.where('audit_events.id', '<', page.before);
  const rows = await query.orderBy('audit_events.id', 'desc').limit(page.limit + 1).execute();
  const shown = rows.slice(0, page.limit);
  const details = new Map(shown.map((r) => [r.id, detailsOf(r.details)]));

  const completed = shown.filter((r) => r.action === 'auth.session_completed');
  const sessionIds = [...new Set(completed.map((r) => stringOr(details.get(r.id)?.sessionId)).filter((id): id is string => id !== null))];
  const sessions = sessionIds.length > 0 ? await db.selectFrom('auth_sessions').select(['id', 'service_name', 'document_name']).where('id', 'in', sessionIds).execute() : [];
  const sessionById = new Map(sessions.map((s) => [s.id, s]));
  // The name the phone showed is the session's. Completed sessions are purged after their
  // retention; for those the registered name in the citizen's language (or the id) names who asked.
  const clientIds = [
    ...new Set(
      completed
        .filter((r) => !sessionById.has(stringOr(details.get(r.id)?.sessionId) ?? ''))
        .map((r) => stringOr(details.get(r.id)?.clientId))
        .filter((id): id is string => id !== null),
    ),
  ];
  const clients = clientIds.length > 0 ? await db.selectFrom('relying_parties').select(['client_id', 'name_uz_latn', 'name_uz_cyrl', 'name_ru', 'name_en']).where('client_id', 'in', clientIds).execute() : [];
  const clientName = new Map(clients.map((c) => [c.client_id, localName(c, locale)]));

  const items = shown.map((r): HistoryItem => {
    const d = details.get(r.id) ?? {};
    const base = { id: r.id, at: new Date(r.at).toISOString(), action: r.action, result: null, mode: null, service: null, documentName: null, office: null };
    if (r.action === 'auth.session_completed') {
      const session = sessionById.get(stringOr(d.sessionId) ?? '');
      const clientId = stringOr(d.clientId);
      return {
        ...base,
        type: d.kind === 'sign' ? 'signature' : 'sign_in',
        result: stringOr(d.result),
        mode: stringOr(d.mode),
        service: session?.service_name ?? (clientId ? (clientName.get(clientId) ?? clientId) : null),
        documentName: session?.document_name ?? null,
        thisDevice: r.actor_type === 'device' && r.actor_id === device.id,
      };
    }
    if (r.action.startsWith('device.')) return { ...base, type: 'device', thisDevice: r.actor_id === device.id };
    const office = r.name_uz_latn !== null && r.name_uz_cyrl !== null && r.name_ru !== null && r.name_en !== null ? localName({ name_uz_latn: r.name_uz_latn, name_uz_cyrl: r.name_uz_cyrl, name_ru: r.name_ru, name_en: r.name_en }, locale) : null;
    return { ...base, type: 'enrollment', office, thisDevice: false };
  });
  return { items, next: rows.length > page.limit ? shown.at(-1)!.id : null };
}

/**
 * `GET /api/v1/device/history`: the citizen's sign-ins, signatures and enrollment events for the
 * app's history screen. Signed like every device call: the citizen is the device's, never a parameter.
 */
export async function historyRoutes(app: FastifyInstance, context: AppContext, requireDevice: (request: FastifyRequest) => Promise<void>): Promise<void> {
  app.get<{ Querystring: { before?: string; limit: number } }>(
    '/api/v1/device/history',
    {
      preHandler: requireDevice,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            before: { type: 'string', pattern: AUDIT_ID },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
            lang: { type: 'string', maxLength: 16 },
          },
        },
        response: { 200: historyResponse },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return citizenHistory(context.db, request.device!, request.locale, { before: request.query.before, limit: request.query.limit });
    },
  );
}
