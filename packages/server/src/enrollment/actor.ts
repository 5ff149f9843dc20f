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
