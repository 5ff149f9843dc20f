import type { Db, Tx } from '../platform/db/index.ts';
import { isUniqueViolation } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import type { Locale } from '../platform/i18n.ts';
import { recordAudit } from '../audit/index.ts';
import { enqueueNotification } from '../notify/index.ts';
import { revokeDevicesForCitizen } from '../devices/service.ts';
import { normalizePhone, maskPhone } from '../identity/phone.ts';
import '../identity/errors.ts';
import { EnrollmentErrors } from './errors.ts';
import { auditBy, type Actor } from './actor.ts';
import type { Enrollment, PhoneBinding } from './schema.ts';
import { newId, secretEquals, sha256, sixDigitCode } from './secrets.ts';
import { notActive, notFoundCitizen } from './texts.ts';

export const BINDING_CODE_LIFETIME_MS = 10 * 60_000;
export const BINDING_ATTEMPTS = 3;
/** Binding codes sent per citizen and per phone number within the window: SMS cost and a phone's peace. */
export const BINDING_SMS_PER_WINDOW = 3;
export const BINDING_SMS_WINDOW_MS = 10 * 60_000;

function codeHash(bindingId: string, code: string): string {
  return sha256(`binding:${bindingId}:${code}`);
}

/** The citizen's live enrollment, required to be active. */
export async function activeEnrollment(db: Db | Tx, citizenId: string): Promise<Enrollment> {
  const citizen = await db.selectFrom('citizens').select('id').where('id', '=', citizenId).executeTakeFirst();
  if (!citizen) throw notFoundCitizen();
  const enrollment = await db.selectFrom('enrollments').selectAll().where('live_citizen_id', '=', citizenId).executeTakeFirst();
  if (!enrollment) throw new ApiError(EnrollmentErrors.not_enrolled);
  if (enrollment.status !== 'active') throw notActive(enrollment.status);
  return enrollment;
}

export async function activeBindingRow(db: Db | Tx, citizenId: string): Promise<PhoneBinding | undefined> {
  return db.selectFrom('phone_bindings').selectAll().where('active_citizen_id', '=', citizenId).executeTakeFirst();
}

/**
 * At most BINDING_SMS_PER_WINDOW codes to one citizen or one phone per window: counted from the
 * bindings started (each sent one SMS), so every instance shares the limit through the database.
 */
async function checkSmsBudget(db: Db, citizenId: string, phone: string, now: number): Promise<void> {
  const since = now - BINDING_SMS_WINDOW_MS;
  const recent = async (column: 'citizen_id' | 'phone', value: string) =>
    db.selectFrom('phone_bindings').select('created_at').where(column, '=', value).where('created_at', '>', since).orderBy('created_at', 'desc').limit(BINDING_SMS_PER_WINDOW).execute();
  for (const rows of [await recent('citizen_id', citizenId), await recent('phone', phone)]) {
    if (rows.length >= BINDING_SMS_PER_WINDOW) {
      const oldest = rows[rows.length - 1]!.created_at;
      const seconds = Math.max(1, Math.ceil((oldest + BINDING_SMS_WINDOW_MS - now) / 1000));
      throw new ApiError(EnrollmentErrors.binding_sms_rate_limited, { params: { seconds }, headers: { 'retry-after': String(seconds) } });
    }
  }
}

export interface StartedBinding {
  readonly binding: PhoneBinding;
  readonly notificationId: string;
}

/**
 * Starts binding a phone: a pending binding with a hashed 6-digit code and the SMS that
 * carries the code, in one transaction. A re-bind keeps the old phone active until the new
 * one is confirmed, so a citizen is never left without Mobile-ID by a typo.
 */
export async function startBinding(
  db: Db,
  input: { citizenId: string; phone: string; rebind: boolean; reason: string | null; smsLocale: Locale; officeName: (locale: Locale) => Promise<string> },
  actor: Actor,
  now: number,
): Promise<StartedBinding> {
  const phone = normalizePhone(input.phone);
  if (!phone.ok) throw new ApiError(phone.code, { localizedDetail: phone.reason });
  const enrollment = await activeEnrollment(db, input.citizenId);
  const current = await activeBindingRow(db, input.citizenId);
  if (!input.rebind && current) throw new ApiError(EnrollmentErrors.phone_binding_exists);
  if (input.rebind && !current) throw new ApiError(EnrollmentErrors.no_active_binding);
  const holder = await db.selectFrom('phone_bindings').select('citizen_id').where('active_phone', '=', phone.e164).executeTakeFirst();
  if (holder && holder.citizen_id !== input.citizenId) throw new ApiError(EnrollmentErrors.phone_already_bound);
  await checkSmsBudget(db, input.citizenId, phone.e164, now);

  const code = sixDigitCode();
  const id = newId('pb');
  const officeName = await input.officeName(input.smsLocale);
  return db.transaction().execute(async (tx) => {
    await tx
      .updateTable('phone_bindings')
      .set({ status: 'abandoned', code_hash: null, ended_at: now })
      .where('citizen_id', '=', input.citizenId)
      .where('status', '=', 'pending')
      .execute();
    const notification = await enqueueNotification(
      tx,
      { kind: 'enrollment.binding_code', channel: 'sms', recipient: phone.e164, locale: input.smsLocale, params: { code, operatorOffice: officeName }, correlationId: id },
      now,
    );
    const binding: PhoneBinding = {
      id,
      citizen_id: input.citizenId,
      enrollment_id: enrollment.id,
      phone: phone.e164,
      mobile_operator: phone.operator,
      status: 'pending',
      rebind: input.rebind ? 1 : 0,
      code_hash: codeHash(id, code),
      attempts: 0,
      code_expires_at: now + BINDING_CODE_LIFETIME_MS,
      active_phone: null,
      active_citizen_id: null,
      operator_id: actor.operator.id,
      office_id: actor.operator.office_id,
      notification_id: notification.id,
      created_at: now,
      bound_at: null,
      ended_at: null,
    };
    await tx.insertInto('phone_bindings').values(binding).execute();
    await recordAudit(
      tx,
      auditBy(actor, {
        action: input.rebind ? 'enrollment.rebind_started' : 'enrollment.binding_started',
        subjectCitizenId: input.citizenId,
        reason: input.reason,
        details: { bindingId: id, phone: maskPhone(phone.e164), mobileOperator: phone.operator, notificationId: notification.id, smsLanguage: input.smsLocale },
      }),
      now,
    );
    return { binding, notificationId: notification.id };
  });
}

/**
 * Confirms a pending binding with the SMS code. Every try spends one of the attempts first, in
 * one guarded update (`attempts < 3`), and only then is the code compared: parallel guesses
 * cannot share an attempt, so no more than three codes are ever compared for one binding.
 */
export async function confirmBinding(db: Db, input: { citizenId: string; bindingId: string; code: string }, actor: Actor, now: number): Promise<PhoneBinding> {
  const pending = await db
    .selectFrom('phone_bindings')
    .selectAll()
    .where('id', '=', input.bindingId)
    .where('citizen_id', '=', input.citizenId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (!pending || pending.code_hash === null) throw new ApiError(EnrollmentErrors.binding_not_found);
  if (pending.code_expires_at <= now) throw new ApiError(EnrollmentErrors.binding_code_expired);
  const spent = await db
    .updateTable('phone_bindings')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', pending.id)
    .where('status', '=', 'pending')
    .where('attempts', '<', BINDING_ATTEMPTS)
    .returning('attempts')
    .executeTakeFirst();
  if (!spent) throw new ApiError(EnrollmentErrors.binding_attempts_exhausted);
  if (!secretEquals(codeHash(pending.id, input.code), pending.code_hash)) {
    const left = BINDING_ATTEMPTS - Number(spent.attempts);
    if (left <= 0) throw new ApiError(EnrollmentErrors.binding_attempts_exhausted);
    throw new ApiError(EnrollmentErrors.binding_code_wrong, { params: { attemptsLeft: left } });
  }
  await activeEnrollment(db, input.citizenId);
  try {
    return await db.transaction().execute(async (tx) => {
      const holder = await tx.selectFrom('phone_bindings').select(['id', 'citizen_id']).where('active_phone', '=', pending.phone).executeTakeFirst();
      if (holder && holder.citizen_id !== input.citizenId) throw new ApiError(EnrollmentErrors.phone_already_bound);
      const current = await activeBindingRow(tx, input.citizenId);
      if (current && pending.rebind !== 1) throw new ApiError(EnrollmentErrors.phone_binding_exists);
      if (current) {
        await tx
          .updateTable('phone_bindings')
          .set({ status: 'replaced', active_phone: null, active_citizen_id: null, ended_at: now })
          .where('id', '=', current.id)
          .execute();
        await tx.updateTable('activation_codes').set({ voided_at: now }).where('binding_id', '=', current.id).where('used_at', 'is', null).where('voided_at', 'is', null).execute();
        // The app on the old phone must stop signing at once: its certificates go on the CRL.
        await revokeDevicesForCitizen(tx, input.citizenId, 'phone_rebound', now);
      }
      const done = await tx
        .updateTable('phone_bindings')
        .set({ status: 'active', code_hash: null, active_phone: pending.phone, active_citizen_id: input.citizenId, bound_at: now })
        .where('id', '=', pending.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) throw new ApiError(EnrollmentErrors.binding_not_found);
      await recordAudit(
        tx,
        auditBy(actor, {
          action: current ? 'enrollment.phone_rebound' : 'enrollment.phone_bound',
          subjectCitizenId: input.citizenId,
          details: { bindingId: pending.id, phone: maskPhone(pending.phone), mobileOperator: pending.mobile_operator, ...(current ? { replacedBindingId: current.id } : {}) },
        }),
        now,
      );
      return { ...pending, status: 'active' as const, code_hash: null, active_phone: pending.phone, active_citizen_id: input.citizenId, bound_at: now };
    });
  } catch (error) {
    // Two operators confirming two citizens onto one phone at once: the unique index decides.
    if (isUniqueViolation(error)) throw new ApiError(EnrollmentErrors.phone_already_bound);
    throw error;
  }
}
