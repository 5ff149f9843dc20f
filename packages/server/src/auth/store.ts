import { EventEmitter } from 'node:events';
import type { Db, Tx } from '../platform/db/index.ts';
import { following, GATE_PASSED, preparedTogether, preparedTogetherGated } from '../platform/db/write-together.ts';
import { advanceCounterQuery, refuseDeviceRequest, type CounterAdvance } from '../devices/protocol.ts';
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
  /** The device's signature over the signing input (a sign-in or signature confirmed). */
  readonly signature?: string;
  readonly assurance?: Assurance;
  /** Confirmations count only while this binding is active and its enrollment not suspended. */
  readonly whileBound?: { readonly citizenId: string; readonly bindingId: string };
  /** A wrong verification-code choice: counted in the same statement that ends the session. */
  readonly countWrongCode?: boolean;
  /**
   * The device request that completes the session: its counter moves forward in the same
   * statement, and the session completes only if it did (else the request is refused, as
   * `refuseDeviceRequest` says: revoked, expired or replayed).
   */
  readonly counter?: CounterAdvance;
}

export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

type SessionRef = Pick<AuthSession, 'id' | 'citizen_id' | 'client_id' | 'kind' | 'mode'>;

interface CompletionValues extends Record<string, unknown> {
  id: string;
  result: SessionResult;
  now: number;
  signature?: string;
  assurance?: Assurance;
  countWrongCode?: true;
  bindingId?: string;
  citizenId?: string;
  deviceId?: string;
  counter?: number;
}

/**
 * The completing UPDATE. `gated`: it runs behind the device request's counter (PostgreSQL's
 * form of `completingWithCounter`) and completes nothing unless the counter moved.
 */
function completingUpdate(qc: Db | Tx, v: CompletionValues, gated: boolean) {
  let update = qc
    .updateTable('auth_sessions')
    .set((eb) => ({
      state: 'complete' as const,
      result: v.result,
      completed_at: v.now,
      pending_citizen_id: null,
      qr_secret: null,
      ...('signature' in v ? { signature: v.signature! } : {}),
      ...('assurance' in v ? { assurance: v.assurance! } : {}),
      ...('countWrongCode' in v ? { vc_attempts: eb('vc_attempts', '+', 1) } : {}),
    }))
    .where('id', '=', v.id)
    .where('state', '=', 'pending');
  if (gated) update = update.where(GATE_PASSED);
  // The binding check rides in the same statement, so it costs no round trip of its own
  // and a suspension committed a moment earlier is seen (getActiveBinding's rule).
  if ('bindingId' in v) {
    update = update.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('phone_bindings')
          .innerJoin('enrollments', 'enrollments.id', 'phone_bindings.enrollment_id')
          .select('phone_bindings.id')
          .where('phone_bindings.id', '=', v.bindingId!)
          .where('phone_bindings.active_citizen_id', '=', v.citizenId!)
          .where('enrollments.status', '=', 'active'),
      ),
    );
  }
  return update.returning('id');
}

/**
 * Completions compiled once per kind (which of `values`' keys are present), since every
 * sign-in ends with one: by the system or the starter, and by a device's request, whose
 * counter moves forward in the same statement (one round trip and commit less per sign-in).
 */
const completing = preparedTogether((qc, v: CompletionValues) => completingUpdate(qc, v, false));
const completingWithCounter = preparedTogetherGated((qc, v: CompletionValues) => advanceCounterQuery(qc, { deviceId: v.deviceId!, counter: v.counter!, now: v.now }), completingUpdate);

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
  const values: CompletionValues = {
    id: session.id,
    result,
    now,
    ...(completion.signature ? { signature: completion.signature } : {}),
    ...(completion.assurance ? { assurance: completion.assurance } : {}),
    ...(completion.countWrongCode ? { countWrongCode: true } : {}),
    ...(completion.whileBound ? { bindingId: completion.whileBound.bindingId, citizenId: completion.whileBound.citizenId } : {}),
    ...(completion.counter ? { deviceId: completion.counter.deviceId, counter: completion.counter.counter } : {}),
  };
  const rows = [following('audit_events', audit)];
  if (!completion.counter) return (await completing(db, values, rows)).length === 1;
  const written = await completingWithCounter(db, values, rows);
  if (!written.passed) return refuseDeviceRequest(db, completion.counter);
  return written.ids.length === 1;
}

/** Ends every pending session of a citizen (their last device was revoked). */
export async function finishPendingSessionsOfCitizen(tx: Tx, citizenId: string, result: SessionResult, now: number): Promise<AuthSession[]> {
  // A citizen's pending session is the one that holds their pending slot (its unique index).
  const pending = await tx.selectFrom('auth_sessions').selectAll().where('pending_citizen_id', '=', citizenId).where('state', '=', 'pending').execute();
  for (const session of pending) await completeSession(tx, session, result, now, { type: 'system', id: 'revocation' });
  return pending;
}
