import { EventEmitter } from 'node:events';
import type { Db, Tx } from '../platform/db/index.ts';
import { following, writeTogether } from '../platform/db/write-together.ts';
import { auditEventRow } from '../audit/audit.ts';
import type { ActorType } from '../audit/schema.ts';
import type { Assurance, AuthSession, SessionResult } from './schema.ts';
import '../enrollment/schema.ts';

/**
 * Wakes long-polls in this process once a completion has committed (emitting earlier would
 * wake them to read the old state); other instances and other writers are found by polling.
 */
export const sessionEvents = new EventEmitter();
sessionEvents.setMaxListeners(0);

export interface Completion {
  readonly jws?: string;
  readonly assurance?: Assurance;
  /** Confirmations count only while this binding is active and its enrollment not suspended. */
  readonly whileBound?: { readonly citizenId: string; readonly bindingId: string };
  /** A wrong verification-code choice: counted in the same statement that ends the session. */
  readonly countWrongCode?: boolean;
}

export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

type SessionRef = Pick<AuthSession, 'id' | 'citizen_id' | 'client_id' | 'kind' | 'mode'>;

/**
 * Moves a pending session to its final result, once, with its audit record: the state
 * condition makes a second confirmation (or one racing the expiry sweep) change nothing and
 * audit nothing. One statement on PostgreSQL (see writeTogether).
 */
export async function completeSession(db: Db | Tx, session: SessionRef, result: SessionResult, now: number, actor: Actor, completion: Completion = {}): Promise<boolean> {
  const audit = auditEventRow(
    {
      actorType: actor.type,
      actorId: actor.id,
      action: 'auth.session_completed',
      subjectCitizenId: session.citizen_id,
      details: { sessionId: session.id, kind: session.kind, mode: session.mode, clientId: session.client_id, result },
    },
    now,
  );
  const written = await writeTogether(
    db,
    (qc) => {
      let update = qc
        .updateTable('auth_sessions')
        .set((eb) => ({
          state: 'complete' as const,
          result,
          completed_at: now,
          pending_citizen_id: null,
          qr_secret: null,
          ...(completion.jws ? { jws: completion.jws } : {}),
          ...(completion.assurance ? { assurance: completion.assurance } : {}),
          ...(completion.countWrongCode ? { vc_attempts: eb('vc_attempts', '+', 1) } : {}),
        }))
        .where('id', '=', session.id)
        .where('state', '=', 'pending');
      // The binding check rides in the same statement, so it costs no round trip of its own
      // and a suspension committed a moment earlier is seen (getActiveBinding's rule).
      const bound = completion.whileBound;
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
      return update.returning('id');
    },
    [following('audit_events', audit)],
  );
  return written.length === 1;
}

/** Ends every pending session of a citizen (their last device was revoked). */
export async function finishPendingSessionsOfCitizen(tx: Tx, citizenId: string, result: SessionResult, now: number): Promise<AuthSession[]> {
  const pending = await tx.selectFrom('auth_sessions').selectAll().where('citizen_id', '=', citizenId).where('state', '=', 'pending').execute();
  for (const session of pending) await completeSession(tx, session, result, now, { type: 'system', id: 'revocation' });
  return pending;
}
