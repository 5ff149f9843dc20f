import { randomBytesPooled } from '../platform/random.ts';
import type { Db, Tx } from '../platform/db/index.ts';
import type { ActorType, AuditEventRow, AuditEventTable } from './schema.ts';

export interface AuditInput {
  readonly actorType: ActorType;
  readonly actorId: string;
  readonly officeId?: string | null;
  readonly action: string;
  readonly subjectCitizenId?: string | null;
  readonly reason?: string | null;
  /** Must not hold personal data: ids and masked values only. */
  readonly details?: Record<string, unknown>;
  readonly requestId?: string;
}

export interface AuditEvent {
  readonly id: string;
  readonly at: string;
  readonly actorType: ActorType;
  readonly actorId: string;
  readonly officeId: string | null;
  readonly action: string;
  readonly subjectCitizenId: string | null;
  readonly reason: string | null;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
}

/**
 * Ids sort by time: a fixed-width hex millisecond stamp, a per-process sequence, then randomness, so keyset pages
 * (`before=<id>`) follow the order events were written in, the same on both databases.
 */
let sequence = 0;
function newAuditId(now: number): string {
  sequence = (sequence + 1) % 0x10000;
  return `aud_${now.toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${randomBytesPooled(6).toString('hex')}`;
}

/** The row an audit event is stored as; for writers that put it into a statement of their own. */
export function auditEventRow(input: AuditInput, now: number): AuditEventTable {
  return {
    id: newAuditId(now),
    at: now,
    actor_type: input.actorType,
    actor_id: input.actorId,
    office_id: input.officeId ?? null,
    action: input.action,
    subject_citizen_id: input.subjectCitizenId ?? null,
    reason: input.reason ?? null,
    details: JSON.stringify(input.details ?? {}),
    request_id: input.requestId ?? null,
  };
}

/** Writes one audit event in the caller's transaction: the event commits with the change it records. */
export async function recordAudit(tx: Tx | Db, input: AuditInput, now: number): Promise<{ id: string }> {
  const row = auditEventRow(input, now);
  await tx.insertInto('audit_events').values(row).execute();
  return { id: row.id };
}

export function presentAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    officeId: row.office_id,
    action: row.action,
    subjectCitizenId: row.subject_citizen_id,
    reason: row.reason,
    details: JSON.parse(row.details) as Record<string, unknown>,
    requestId: row.request_id,
  };
}

export interface AuditQuery {
  readonly citizenId?: string | undefined;
  readonly before?: string | undefined;
  readonly limit: number;
}

export async function listAuditEvents(db: Db | Tx, query: AuditQuery): Promise<AuditEventRow[]> {
  let q = db.selectFrom('audit_events').selectAll();
  if (query.citizenId) q = q.where('subject_citizen_id', '=', query.citizenId);
  if (query.before) q = q.where('id', '<', query.before);
  return q.orderBy('id', 'desc').limit(query.limit).execute();
}
