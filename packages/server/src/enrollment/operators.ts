import { randomBytes } from 'node:crypto';
import type { Db, Tx } from '../platform/db/index.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { EnrollmentErrors } from './errors.ts';
import type { Operator, OperatorRole } from './schema.ts';
import { newId, randomToken, sha256 } from './secrets.ts';
import { EnrollmentTexts, localized } from './texts.ts';
import { browserBaseUrl } from '../platform/browser-url.ts';

export const INVITATION_LIFETIME_MS = 24 * 60 * 60_000;

export interface OperatorJson {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly officeId: string;
  readonly status: string;
}

export function presentOperator(operator: Operator): OperatorJson {
  return { id: operator.id, name: operator.name, role: operator.role, officeId: operator.office_id, status: operator.status };
}

export interface Invitation {
  readonly operator: Operator;
  readonly token: string;
  readonly registrationUrl: string;
  readonly expiresAt: number;
}

/**
 * Creates an operator in the `invited` state with a one-time registration link. The token is
 * returned once and stored only as its hash.
 */
export async function inviteOperator(
  db: Db,
  input: { name: string; role: OperatorRole; officeId: string; createdBy: string; createdByOffice: string | null; publicUrl: string; requestId?: string },
  now: number,
): Promise<Invitation> {
  const office = await db.selectFrom('offices').select(['id', 'active']).where('id', '=', input.officeId).executeTakeFirst();
  if (!office || office.active !== 1) throw new ApiError(EnrollmentErrors.office_unknown, localized(EnrollmentTexts.officeUnknown, { officeId: input.officeId }));
  const token = randomToken();
  const expiresAt = now + INVITATION_LIFETIME_MS;
  const operator: Operator = {
    id: newId('op'),
    name: input.name,
    office_id: input.officeId,
    role: input.role,
    status: 'invited',
    webauthn_user_id: randomBytes(32).toString('base64url'),
    created_by: input.createdBy,
    created_at: now,
    row_version: 1,
  };
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('operators').values(operator).execute();
    await tx
      .insertInto('operator_invitations')
      .values({ id: newId('inv'), token_hash: sha256(token), operator_id: operator.id, expires_at: expiresAt, used_at: null, created_by: input.createdBy, created_at: now })
      .execute();
    await recordAudit(
      tx,
      {
        actorType: input.createdBy.startsWith('op_') ? 'operator' : 'system',
        actorId: input.createdBy,
        officeId: input.createdByOffice,
        action: 'operator.invited',
        details: { operatorId: operator.id, role: input.role, officeId: input.officeId },
        ...(input.requestId ? { requestId: input.requestId } : {}),
      },
      now,
    );
  });
  return { operator, token, registrationUrl: `${browserBaseUrl(input.publicUrl)}/console/register?token=${token}`, expiresAt };
}

/**
 * A new one-time registration link for an existing operator who lost their passkey (admin).
 * Their passkeys are deleted (a lost one may be in other hands), their sessions and earlier
 * links end, and they are `invited` until they register a new passkey. A disabled operator
 * stays disabled, and nobody re-invites themselves.
 */
export async function reinviteOperator(
  db: Db,
  input: { operatorId: string; reason: string; admin: Operator; publicUrl: string; requestId: string },
  now: number,
): Promise<Invitation> {
  if (input.operatorId === input.admin.id) throw new ApiError(EnrollmentErrors.operator_self_change);
  const target = await db.selectFrom('operators').selectAll().where('id', '=', input.operatorId).executeTakeFirst();
  if (!target) throw new ApiError(CommonErrors.not_found);
  if (target.status === 'disabled') throw new ApiError(EnrollmentErrors.operator_disabled);
  const token = randomToken();
  const expiresAt = now + INVITATION_LIFETIME_MS;
  const operator: Operator = { ...target, status: 'invited', row_version: target.row_version + 1 };
  await db.transaction().execute(async (tx) => {
    const changed = await tx
      .updateTable('operators')
      .set({ status: 'invited', row_version: operator.row_version })
      .where('id', '=', target.id)
      .where('row_version', '=', target.row_version)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) throw new ApiError(CommonErrors.conflict);
    const passkeys = await tx.deleteFrom('operator_passkeys').where('operator_id', '=', target.id).executeTakeFirst();
    await tx.updateTable('operator_invitations').set({ expires_at: now }).where('operator_id', '=', target.id).where('used_at', 'is', null).where('expires_at', '>', now).execute();
    await tx.updateTable('operator_sessions').set({ ended_at: now }).where('operator_id', '=', target.id).where('ended_at', 'is', null).execute();
    await tx
      .insertInto('operator_invitations')
      .values({ id: newId('inv'), token_hash: sha256(token), operator_id: target.id, expires_at: expiresAt, used_at: null, created_by: input.admin.id, created_at: now })
      .execute();
    await recordAudit(
      tx,
      {
        actorType: 'operator',
        actorId: input.admin.id,
        officeId: input.admin.office_id,
        action: 'operator.reinvited',
        reason: input.reason,
        details: { operatorId: target.id, passkeysRemoved: Number(passkeys.numDeletedRows) },
        requestId: input.requestId,
      },
      now,
    );
  });
  return { operator, token, registrationUrl: `${browserBaseUrl(input.publicUrl)}/console/register?token=${token}`, expiresAt };
}

/** The live invitation for a token and its operator, or `invitation_invalid`. */
export async function findInvitation(db: Db | Tx, token: string, now: number): Promise<{ invitationId: string; operator: Operator }> {
  const row = await db
    .selectFrom('operator_invitations')
    .innerJoin('operators', 'operators.id', 'operator_invitations.operator_id')
    .selectAll('operators')
    .select(['operator_invitations.id as invitation_id', 'operator_invitations.expires_at as invitation_expires_at', 'operator_invitations.used_at as invitation_used_at'])
    .where('operator_invitations.token_hash', '=', sha256(token))
    .executeTakeFirst();
  if (!row || row.invitation_used_at !== null || row.invitation_expires_at <= now || row.status === 'disabled') {
    throw new ApiError(EnrollmentErrors.invitation_invalid);
  }
  const { invitation_id, invitation_expires_at: _e, invitation_used_at: _u, ...operator } = row;
  return { invitationId: invitation_id, operator };
}
