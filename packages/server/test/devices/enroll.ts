import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/platform/db/index.ts';
import { makePinfl } from '../../src/identity/pinfl.ts';
import { issueActivationCode } from '../../src/enrollment/activation.ts';

export interface EnrolledCitizen {
  readonly citizenId: string;
  readonly pinfl: string;
  readonly phone: string;
  readonly bindingId: string;
  /** A fresh activation code, issued through the enrollment module. */
  activationCode(): Promise<string>;
}

let serial = 0;

/**
 * A citizen enrolled in person with an active phone binding. The rows of the identity and
 * enrollment modules are written directly (their operator flow needs passkeys); the
 * activation code comes from the enrollment module's own issuer.
 */
/** Needs the demo offices (`serve --demo` or the test app) for its office. */
export async function enrollCitizen(db: Db, publicUrl: string, now: () => number = Date.now, officeId = 'psc-su-boysun'): Promise<EnrolledCitizen> {
  const n = ++serial;
  const suffix = randomBytes(6).toString('hex');
  // Unique within a process (each test database and bench run is fresh).
  const pinfl = makePinfl('1990-05-17', n % 2 ? 'M' : 'F', 1 + (Math.floor(n / 999) % 999), 1 + (n % 999));
  const phone = `+99890${String(n).padStart(7, '0')}`;
  const t = now();
  const citizenId = `cit_${suffix}`;
  const operatorId = `op_${suffix}`;
  const enrollmentId = `enr_${suffix}`;
  const bindingId = `bnd_${suffix}`;
  await db
    .insertInto('citizens')
    .values({ id: citizenId, pinfl, surname_latn: 'Test', given_name_latn: 'Fuqaro', patronymic_latn: 'X', surname_cyrl: 'Тест', given_name_cyrl: 'Фуқаро', patronymic_cyrl: 'Х', birth_date: '1990-05-17', sex: 'M', citizenship: 'UZ', photo: null, demo: 1, source: 'demo', imported_at: t, updated_at: t })
    .execute();
  const operator = { id: operatorId, name: 'Test Operator', office_id: officeId, role: 'operator' as const, status: 'active' as const, webauthn_user_id: suffix, created_by: 'test', created_at: t };
  await db.insertInto('operators').values(operator).execute();
  await db
    .insertInto('enrollments')
    .values({ id: enrollmentId, citizen_id: citizenId, office_id: officeId, operator_id: operatorId, assurance: 'in_person', status: 'active', live_citizen_id: citizenId, created_at: t, updated_at: t })
    .execute();
  await db
    .insertInto('phone_bindings')
    .values({ id: bindingId, citizen_id: citizenId, enrollment_id: enrollmentId, phone, mobile_operator: 'Beeline', status: 'active', rebind: 0, code_hash: null, attempts: 0, code_expires_at: t, active_phone: phone, active_citizen_id: citizenId, operator_id: operatorId, office_id: officeId, notification_id: null, created_at: t, bound_at: t, ended_at: null })
    .execute();
  const actor = { operator: { ...operator, row_version: 0 }, requestId: `req-${suffix}` };
  return {
    citizenId,
    pinfl,
    phone,
    bindingId,
    activationCode: async () => (await issueActivationCode(db, citizenId, publicUrl, actor, now())).code,
  };
}
