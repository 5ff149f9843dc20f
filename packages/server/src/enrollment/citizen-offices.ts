import type { Db } from '../platform/db/index.ts';
import type { Locale } from '../platform/i18n.ts';

export interface OfficeEvent {
  readonly at: string;
  readonly action: string;
  readonly office: { readonly id: string; readonly kind: string; readonly name: string };
  readonly reason: string | null;
}

/**
 * What a citizen is shown about who enrolled or changed them: each enrollment change with the
 * office that made it (not the operator's identity, which stays in the full audit log).
 * Operators read it at `GET /api/v1/citizens/:id/offices`; the citizen's app reads their own at
 * `GET /api/v1/me/offices` (devices module, a signed device request).
 */
export async function citizenOfficeHistory(db: Db, citizenId: string, locale: Locale): Promise<OfficeEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .innerJoin('offices', 'offices.id', 'audit_events.office_id')
    .select(['audit_events.at', 'audit_events.action', 'audit_events.reason', 'offices.id as office_id', 'offices.kind', 'offices.name_uz_latn', 'offices.name_uz_cyrl', 'offices.name_ru', 'offices.name_en'])
    .where('audit_events.subject_citizen_id', '=', citizenId)
    .where('audit_events.action', 'like', 'enrollment.%')
    .orderBy('audit_events.id', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    action: r.action,
    office: { id: r.office_id, kind: r.kind, name: { 'uz-Latn': r.name_uz_latn, 'uz-Cyrl': r.name_uz_cyrl, ru: r.name_ru, en: r.name_en }[locale] },
    reason: r.reason,
  }));
}
