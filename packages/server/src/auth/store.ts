import { EventEmitter } from 'node:events';
import type { Db, Tx } from '../platform/db/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Assurance, AuthSession, SessionResult } from './schema.ts';
import '../enrollment/schema.ts';

/**
 * Wakes long-polls in this process once a completion has committed (emitting earlier would
 * wake them to read the old state); other instances and other writers are found by polling.
 */
export const sessionEvents = new EventEmitter();
sessionEvents.setMaxListeners(0);

/**
 * Moves a pending session to its final result, once: the state condition makes a second
 * confirmation (or a confirmation racing the expiry sweep) change nothing.
 */
export async function finishSession(
  tx: Tx | Db,
  sessionId: string,
  result: SessionResult,
  now: number,
  extra: { jws?: string; assurance?: Assurance; whileBound?: { citizenId: string; bindingId: string } } = {},
): Promise<boolean> {
  let update = tx
    .updateTable('auth_sessions')
    .set({
      state: 'complete',
      result,
      completed_at: now,
      pending_citizen_id: null,
      qr_secret: null,
      ...(extra.jws ? { jws: extra.jws } : {}),
      ...(extra.assurance ? { assurance: extra.assurance } : {}),
    })
    .where('id', '=', sessionId)
    .where('state', '=', 'pending');
  // A confirmation counts only while the device's binding is active and its enrollment not
  // suspended: checked in the same statement, so the check costs no round trip of its own and
  // a suspension committed a moment earlier is seen (getActiveBinding's rule).
  const bound = extra.whileBound;
  if (bound) {
    update = update.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('phone_bindings')
          .innerJoin('enrollments', 'enrollments.id', 'phone_bindings.enrollment_id')
          .select('phone_bindings.id')
          .where('phone_bindings.id', '=', bound.bindingId)
          .where('phone_bindings.active_citizen_id', '=', bound.citizenId)
          .where('enrollments.status', '=', 'active'),
      ),
    );
  }
  const updated = await update.executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Ends every pending session of a citizen (their last device was revoked). */
export async function finishPendingSessionsOfCitizen(tx: Tx, citizenId: string, result: SessionResult, now: number): Promise<AuthSession[]> {
  const pending = await tx.selectFrom('auth_sessions').selectAll().where('citizen_id', '=', citizenId).where('state', '=', 'pending').execute();
  for (const session of pending) {
    if (await finishSession(tx, session.id, result, now)) {
      await recordAudit(
        tx,
        { actorType: 'system', actorId: 'revocation', action: 'auth.session_completed', subjectCitizenId: citizenId, details: { sessionId: session.id, kind: session.kind, mode: session.mode, clientId: session.client_id, result } },
        now,
      );
    }
  }
  return pending;
}
