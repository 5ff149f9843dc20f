import QRCode from 'qrcode';
import type { Db, Tx } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { EnrollmentErrors } from './errors.ts';
import { auditBy, type Actor } from './actor.ts';
import { activeBindingRow, activeEnrollment } from './bindings.ts';
import type { Assurance } from './schema.ts';
import { activationCode, canonicalActivationCode, groupCode, newId, sha256 } from './secrets.ts';

export const ACTIVATION_CODE_LIFETIME_MS = 15 * 60_000;

function activationHash(code: string): string {
  return sha256(`activation:${canonicalActivationCode(code)}`);
}

export interface IssuedActivationCode {
  readonly code: string;
  readonly activationUri: string;
  readonly qrSvg: string;
  readonly expiresAt: number;
}

/** Issues a one-time app activation code for the citizen's active phone; earlier unused codes are voided. */
export async function issueActivationCode(db: Db, citizenId: string, publicUrl: string, actor: Actor, now: number, reason: string | null = null): Promise<IssuedActivationCode> {
  const enrollment = await activeEnrollment(db, citizenId);
  const binding = await activeBindingRow(db, citizenId);
  if (!binding) throw new ApiError(EnrollmentErrors.no_active_binding);
  const code = activationCode();
  const expiresAt = now + ACTIVATION_CODE_LIFETIME_MS;
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('activation_codes').set({ voided_at: now }).where('citizen_id', '=', citizenId).where('used_at', 'is', null).where('voided_at', 'is', null).execute();
    const id = newId('act');
    await tx
      .insertInto('activation_codes')
      .values({
        id,
        code_hash: activationHash(code),
        citizen_id: citizenId,
        binding_id: binding.id,
        assurance: enrollment.assurance,
        operator_id: actor.operator.id,
        office_id: actor.operator.office_id,
        expires_at: expiresAt,
        used_at: null,
        voided_at: null,
        created_at: now,
      })
      .execute();
    await recordAudit(tx, auditBy(actor, { action: 'enrollment.activation_code_issued', subjectCitizenId: citizenId, reason, details: { activationCodeId: id, bindingId: binding.id } }), now);
  });
  const activationUri = `tasdiq://activate?code=${code}&server=${encodeURIComponent(publicUrl)}`;
  const qrSvg = await QRCode.toString(activationUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { code: groupCode(code), activationUri, qrSvg, expiresAt };
}

export interface ConsumedActivation {
  readonly citizenId: string;
  readonly bindingId: string;
  readonly phone: string;
  readonly assurance: Assurance;
}

/**
 * For the devices module: spends an activation code inside the caller's transaction. Returns
 * null, and writes nothing, for a code that is unknown, used, voided, expired, or whose phone
 * binding or enrollment is no longer active.
 */
export async function consumeActivationCode(tx: Tx | Db, code: string, now: number): Promise<ConsumedActivation | null> {
  if (typeof code !== 'string' || code.length > 64) return null;
  const row = await tx
    .selectFrom('activation_codes')
    .innerJoin('phone_bindings', 'phone_bindings.id', 'activation_codes.binding_id')
    .innerJoin('enrollments', 'enrollments.id', 'phone_bindings.enrollment_id')
    .select([
      'activation_codes.id as id',
      'activation_codes.citizen_id as citizen_id',
      'activation_codes.binding_id as binding_id',
      'activation_codes.assurance as assurance',
      'activation_codes.expires_at as expires_at',
      'activation_codes.used_at as used_at',
      'activation_codes.voided_at as voided_at',
      'phone_bindings.phone as phone',
      'phone_bindings.status as binding_status',
      'enrollments.status as enrollment_status',
    ])
    .where('activation_codes.code_hash', '=', activationHash(code))
    .executeTakeFirst();
  if (!row || row.used_at !== null || row.voided_at !== null || row.expires_at <= now) return null;
  if (row.binding_status !== 'active' || row.enrollment_status !== 'active') return null;
  // The guard in the update makes two concurrent redemptions of one code yield one winner.
  const spent = await tx.updateTable('activation_codes').set({ used_at: now }).where('id', '=', row.id).where('used_at', 'is', null).where('voided_at', 'is', null).executeTakeFirst();
  if (Number(spent.numUpdatedRows) !== 1) return null;
  return { citizenId: row.citizen_id, bindingId: row.binding_id, phone: row.phone, assurance: row.assurance };
}

export interface ActiveBinding {
  readonly bindingId: string;
  readonly citizenId: string;
  readonly enrollmentId: string;
  readonly phone: string;
  readonly mobileOperator: string;
  readonly boundAt: number;
}

/**
 * For the devices and auth modules: the citizen's Mobile-ID phone, or null when there is none
 * or the enrollment is suspended or revoked (then the phone must not be used to sign in).
 */
export async function getActiveBinding(db: Db | Tx, citizenId: string): Promise<ActiveBinding | null> {
  const row = await db
    .selectFrom('phone_bindings')
    .innerJoin('enrollments', 'enrollments.id', 'phone_bindings.enrollment_id')
    .select([
      'phone_bindings.id as id',
      'phone_bindings.enrollment_id as enrollment_id',
      'phone_bindings.phone as phone',
      'phone_bindings.mobile_operator as mobile_operator',
      'phone_bindings.bound_at as bound_at',
      'enrollments.status as enrollment_status',
    ])
    .where('phone_bindings.active_citizen_id', '=', citizenId)
    .executeTakeFirst();
  if (!row || row.enrollment_status !== 'active') return null;
  return { bindingId: row.id, citizenId, enrollmentId: row.enrollment_id, phone: row.phone, mobileOperator: row.mobile_operator, boundAt: row.bound_at ?? 0 };
}
