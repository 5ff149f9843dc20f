import type { Selectable } from 'kysely';

export const ACTOR_TYPES = ['operator', 'citizen', 'device', 'client', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Append-only record of who did what to whom, from which office, and why. */
export interface AuditEventTable {
  id: string;
  at: number;
  actor_type: ActorType;
  actor_id: string;
  office_id: string | null;
  /** Dotted action name, e.g. `enrollment.phone_bound`. */
  action: string;
  subject_citizen_id: string | null;
  reason: string | null;
  /** JSON object without personal data. */
  details: string;
  request_id: string | null;
}

export type AuditEventRow = Selectable<AuditEventTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    audit_events: AuditEventTable;
  }
}
