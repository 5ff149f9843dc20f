import type { Db } from '../platform/db/index.ts';
import { signalEnqueued } from './outbox.ts';
import type { OutboxMessage } from './schema.ts';

/**
 * A running outbox worker of this process that takes a message from its writer directly: the
 * writer inserts the message already claimed by the worker (its lease included), and hands it
 * over once that commits. The worker then neither waits for a wake-up nor claims it with a
 * statement of its own. The row's lease keeps at-least-once delivery: if this process dies
 * before recording the outcome, the lease lapses and any worker requeues the message.
 */
export interface LocalClaimant {
  readonly id: string;
  /** The lease a message written now would hold, or undefined when this worker cannot take one now. */
  leaseFor(now: number): number | undefined;
  /** Delivers a message that was written claimed by this worker, and has committed. */
  take(message: OutboxMessage): void;
}

/** Per database handle: a worker delivers only what its own database holds. */
const claimants = new WeakMap<Db, LocalClaimant>();

export function offerLocalClaimant(db: Db, claimant: LocalClaimant): void {
  if (!claimants.has(db)) claimants.set(db, claimant);
}

export function withdrawLocalClaimant(db: Db, claimant: LocalClaimant): void {
  if (claimants.get(db) === claimant) claimants.delete(db);
}

/**
 * For a writer about to insert a new message in a statement of its own: the row to insert
 * (claimed by this process's worker when one can take it now) and what to call once that
 * statement committed (the hand-over, or the usual signal to the workers).
 */
export function claimOnWrite(db: Db, message: OutboxMessage, now: number): { readonly row: OutboxMessage; committed(): void } {
  const claimant = claimants.get(db);
  const leaseUntil = claimant?.leaseFor(now);
  if (!claimant || leaseUntil === undefined) return { row: message, committed: () => signalEnqueued(true) };
  // As the worker's claim sets it: sending, this worker's, leased, one attempt under way.
  const row: OutboxMessage = { ...message, status: 'sending', claimed_by: claimant.id, lease_until: leaseUntil, attempts: message.attempts + 1, updated_at: now };
  return { row, committed: () => claimant.take(row) };
}
