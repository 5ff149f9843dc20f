import type { Db, Tx } from '../platform/db/index.ts';
import type { Citizen, IdentityDocument } from '../identity/schema.ts';
import type { RegistryCitizen, RegistryDocument } from '../identity/registry/types.ts';
import type { Enrollment, PhoneBinding } from './schema.ts';
import { BINDING_ATTEMPTS } from './bindings.ts';

export interface DocumentJson {
  kind: string;
  series: string;
  number: string;
  issuedOn: string;
  expiresOn: string;
  issuingOffice: string;
  expired: boolean;
}

export interface CitizenJson {
  id: string | null;
  pinfl: string;
  name: { latn: { surname: string; given: string; patronymic: string }; cyrl: { surname: string; given: string; patronymic: string } };
  birthDate: string;
  sex: 'M' | 'F';
  citizenship: string;
  photo: string | null;
  demo: boolean;
  documents: DocumentJson[];
  enrollment: { id: string; status: string; assurance: string; officeId: string; operatorId: string; createdAt: string } | null;
  binding: { id: string; phone: string; mobileOperator: string; status: string; boundAt: string | null } | null;
  pendingBinding: PendingBindingJson | null;
}

/**
 * A started binding awaiting its SMS code. `state` says whether the code can still be entered
 * (`waiting`), or a new code must be sent because the old one ran out of time (`expired`) or of
 * attempts (`exhausted`); starting again abandons this one.
 */
export interface PendingBindingJson {
  id: string;
  phone: string;
  mobileOperator: string;
  expiresAt: string;
  attemptsLeft: number;
  rebind: boolean;
  state: 'waiting' | 'expired' | 'exhausted';
}

export function pendingBindingJson(
  b: Pick<PhoneBinding, 'id' | 'phone' | 'mobile_operator' | 'code_expires_at' | 'attempts' | 'rebind'>,
  now: number,
): PendingBindingJson {
  const attemptsLeft = Math.max(0, BINDING_ATTEMPTS - b.attempts);
  return {
    id: b.id,
    phone: b.phone,
    mobileOperator: b.mobile_operator,
    expiresAt: new Date(b.code_expires_at).toISOString(),
    attemptsLeft,
    rebind: b.rebind === 1,
    state: attemptsLeft === 0 ? 'exhausted' : b.code_expires_at <= now ? 'expired' : 'waiting',
  };
}

/** UTC calendar date of an instant; a document is valid through its expiry date. */
export function today(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function isExpired(expiresOn: string, now: number): boolean {
  return expiresOn < today(now);
}

function registryDocumentJson(d: RegistryDocument, now: number): DocumentJson {
  return { kind: d.kind, series: d.series, number: d.number, issuedOn: d.issuedOn, expiresOn: d.expiresOn, issuingOffice: d.issuingOffice, expired: isExpired(d.expiresOn, now) };
}

function localDocumentJson(d: IdentityDocument, now: number): DocumentJson {
  return { kind: d.kind, series: d.series, number: d.number, issuedOn: d.issued_on, expiresOn: d.expires_on, issuingOffice: d.issuing_office, expired: isExpired(d.expires_on, now) };
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

interface LocalState {
  enrollment: Enrollment | undefined;
  binding: PhoneBinding | undefined;
  pending: PhoneBinding | undefined;
}

/** The citizen's newest enrollment (live or the last revoked one), active and pending binding. */
export async function localState(db: Db | Tx, citizenId: string): Promise<LocalState> {
  const enrollment = await db.selectFrom('enrollments').selectAll().where('citizen_id', '=', citizenId).orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
  const bindings = await db.selectFrom('phone_bindings').selectAll().where('citizen_id', '=', citizenId).where('status', 'in', ['active', 'pending']).execute();
  return { enrollment, binding: bindings.find((b) => b.status === 'active'), pending: bindings.find((b) => b.status === 'pending') };
}

function stateJson(state: LocalState, now: number): Pick<CitizenJson, 'enrollment' | 'binding' | 'pendingBinding'> {
  const { enrollment, binding, pending } = state;
  return {
    enrollment: enrollment
      ? { id: enrollment.id, status: enrollment.status, assurance: enrollment.assurance, officeId: enrollment.office_id, operatorId: enrollment.operator_id, createdAt: iso(enrollment.created_at)! }
      : null,
    binding: binding ? { id: binding.id, phone: binding.phone, mobileOperator: binding.mobile_operator, status: binding.status, boundAt: iso(binding.bound_at) } : null,
    pendingBinding: pending ? pendingBindingJson(pending, now) : null,
  };
}

export async function localCitizenJson(db: Db | Tx, citizen: Citizen, documents: IdentityDocument[], now: number): Promise<CitizenJson> {
  return {
    id: citizen.id,
    pinfl: citizen.pinfl,
    name: {
      latn: { surname: citizen.surname_latn, given: citizen.given_name_latn, patronymic: citizen.patronymic_latn },
      cyrl: { surname: citizen.surname_cyrl, given: citizen.given_name_cyrl, patronymic: citizen.patronymic_cyrl },
    },
    birthDate: citizen.birth_date,
    sex: citizen.sex,
    citizenship: citizen.citizenship,
    photo: citizen.photo,
    demo: citizen.demo === 1,
    documents: documents.map((d) => localDocumentJson(d, now)),
    ...stateJson(await localState(db, citizen.id), now),
  };
}

/** A registry record, with local enrollment state when the person is already known here. */
export async function registryCitizenJson(db: Db, record: RegistryCitizen, local: Citizen | undefined, now: number): Promise<CitizenJson> {
  return {
    id: local?.id ?? null,
    pinfl: record.pinfl,
    name: { latn: { ...record.name.latn }, cyrl: { ...record.name.cyrl } },
    birthDate: record.birthDate,
    sex: record.sex,
    citizenship: record.citizenship,
    photo: record.photo,
    demo: record.demo,
    documents: record.documents.map((d) => registryDocumentJson(d, now)),
    ...(local ? stateJson(await localState(db, local.id), now) : { enrollment: null, binding: null, pendingBinding: null }),
  };
}
