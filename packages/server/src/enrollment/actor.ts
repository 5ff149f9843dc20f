import { createHmac } from 'node:crypto';
import type { AuditInput } from '../audit/index.ts';
import type { Operator } from './schema.ts';

/** Who is acting, for the audit log: the signed-in operator and the request that carried it. */
export interface Actor {
  readonly operator: Operator;
  readonly requestId: string;
}

export function auditBy(actor: Actor, rest: Omit<AuditInput, 'actorType' | 'actorId' | 'officeId' | 'requestId'>): AuditInput {
  return { actorType: 'operator', actorId: actor.operator.id, officeId: actor.operator.office_id, requestId: actor.requestId, ...rest };
}

/** The audit's PINFL key, derived from the master key: one purpose, one key. */
export function auditPinflKey(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('tasdiq/audit/pinfl-ref/v1').digest();
}

/**
 * `pr1_` and 128 bits of HMAC-SHA256(key, PINFL): equal for equal PINFLs, so audit events about
 * one person can be found from their PINFL, yet useless without the key (PINFLs are few
 * enough that a plain hash could be reversed by trying them all).
 */
export function pinflRef(key: Buffer, pinfl: string): string {
  return `pr1_${createHmac('sha256', key).update(pinfl).digest().subarray(0, 16).toString('base64url')}`;
}
