import type { Db, Tx } from '../platform/db/index.ts';
import { consumeActivationCode, getActiveBinding } from '../enrollment/activation.ts';
import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../platform/db/index.ts';
import { prepared } from '../platform/db/prepared.ts';
import { SIGN_IN_DEVICE_COLUMNS, type CitizenDirectory, type SignInDevice, type SignInSubject, type SubjectProbe } from './ports.ts';
import '../identity/schema.ts';
import '../enrollment/schema.ts';

/**
 * Identity and enrollment as devices and sign-ins see them. Bindings are read through
 * `getActiveBinding`, so a suspended enrollment's phone cannot be used to sign in.
 */
export const enrollmentDirectory: CitizenDirectory = {
  consumeActivationCode,
  async pinflOf(db: Db | Tx, citizenId: string) {
    return (await db.selectFrom('citizens').select('pinfl').where('id', '=', citizenId).executeTakeFirst())?.pinfl;
  },
  async citizenByPinfl(db: Db | Tx, pinfl: string) {
    return (await db.selectFrom('citizens').select('id').where('pinfl', '=', pinfl).executeTakeFirst())?.id;
  },
  async citizenByPhone(db: Db | Tx, e164: string) {
    const row = await db.selectFrom('phone_bindings').select('active_citizen_id').where('active_phone', '=', e164).executeTakeFirst();
    if (!row?.active_citizen_id) return undefined;
    return (await getActiveBinding(db, row.active_citizen_id)) ? row.active_citizen_id : undefined;
  },
  /**
   * One round trip instead of four: the same rules as citizenByPinfl/citizenByPhone,
   * getActiveBinding (the enrollment must be active) and the newest active device.
   */
  async signInSubject(db: Db | Tx, subject: { pinfl: string } | { phone: string }, probe?: { readonly build: SubjectProbe; readonly value: number }): Promise<SignInSubject | undefined> {
    const byPinfl = 'pinfl' in subject;
    const query = signInSubjectQuery(byPinfl, probe?.build);
    const row = (await query(db, { key: byPinfl ? subject.pinfl : subject.phone, probe: probe?.value ?? null })).rows[0];
    if (!row) return undefined;
    const { subject_citizen_id, subject_binding_id, subject_phone, subject_enrollment_status, subject_extra, ...device } = row;
    const bound = subject_binding_id !== null && subject_phone !== null && subject_enrollment_status === 'active';
    // By phone, a citizen whose enrollment is not active is not found, as citizenByPhone answers.
    if (!bound && !byPinfl) return undefined;
    return {
      citizenId: subject_citizen_id,
      binding: bound ? { bindingId: subject_binding_id, phone: subject_phone } : undefined,
      device: device.id === null ? undefined : (device as SignInDevice),
      extra: subject_extra === null ? null : Number(subject_extra),
    };
  },
  async activeBinding(db: Db | Tx, citizenId: string) {
    const binding = await getActiveBinding(db, citizenId);
    return binding ? { bindingId: binding.bindingId, phone: binding.phone } : undefined;
  },
};

/** The sign-in start's one query, prepared once per way of naming the citizen and per probe. */
const signInSubjectQueries = new Map<string, Map<SubjectProbe | undefined, ReturnType<typeof buildSignInSubjectQuery>>>();

function signInSubjectQuery(byPinfl: boolean, probe: SubjectProbe | undefined) {
  const kind = byPinfl ? 'pinfl' : 'phone';
  let byProbe = signInSubjectQueries.get(kind);
  if (!byProbe) signInSubjectQueries.set(kind, (byProbe = new Map()));
  let query = byProbe.get(probe);
  if (!query) byProbe.set(probe, (query = buildSignInSubjectQuery(byPinfl, probe)));
  return query;
}

function buildSignInSubjectQuery(byPinfl: boolean, probe: SubjectProbe | undefined) {
  return prepared((db: Db, args: { key: string; probe: number | null }) => {
    const base = byPinfl
      ? db.selectFrom('citizens').leftJoin('phone_bindings', 'phone_bindings.active_citizen_id', 'citizens.id').where('citizens.pinfl', '=', args.key)
      : db.selectFrom('phone_bindings').innerJoin('citizens', 'citizens.id', 'phone_bindings.active_citizen_id').where('phone_bindings.active_phone', '=', args.key);
    return base
      .leftJoin('enrollments', 'enrollments.id', 'phone_bindings.enrollment_id')
      .leftJoin('devices', (join) => join.onRef('devices.citizen_id', '=', 'citizens.id').on('devices.status', '=', 'active'))
      .select(SIGN_IN_DEVICE_COLUMNS.map((column) => `devices.${column}` as const))
      .select(['citizens.id as subject_citizen_id', 'phone_bindings.id as subject_binding_id', 'phone_bindings.phone as subject_phone', 'enrollments.status as subject_enrollment_status'])
      .select((eb) => (probe ? probe(eb as unknown as ExpressionBuilder<Database, 'citizens'>, args.probe as number) : eb.val<number | null>(null)).as('subject_extra'))
      .orderBy('devices.created_at', 'desc')
      .limit(1);
  });
}
