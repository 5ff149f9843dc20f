import type { Kysely } from 'kysely';
import type { Db } from '../platform/db/index.ts';

/** The identity data a relying party can receive, by scope. */
export interface CitizenClaims {
  readonly citizenId: string;
  readonly pinfl: string;
  readonly names: {
    readonly latn: { readonly given: string; readonly family: string; readonly middle: string };
    readonly cyrl: { readonly given: string; readonly family: string; readonly middle: string };
  };
  readonly birthdate: string;
  readonly phoneNumber: string | null;
  readonly document: { readonly kind: string; readonly series: string; readonly number: string; readonly expiresOn: string } | null;
}

/** Where claims come from; the provider never reads identity tables directly elsewhere. */
export interface CitizenDirectory {
  claims(citizenId: string): Promise<CitizenClaims | undefined>;
  /** Resolves a CIBA login_hint (phone or PINFL) to a citizen with an active phone. */
  resolveLoginHint(hint: { phone?: string; pinfl?: string }): Promise<string | undefined>;
}

/**
 * The columns this module reads from the identity and enrollment modules' tables, declared
 * here so the provider depends on their data, not on their code.
 */
interface IdentityView {
  citizens: {
    id: string;
    pinfl: string;
    surname_latn: string;
    given_name_latn: string;
    patronymic_latn: string;
    surname_cyrl: string;
    given_name_cyrl: string;
    patronymic_cyrl: string;
    birth_date: string;
  };
  identity_documents: { citizen_id: string; kind: string; series: string; number: string; expires_on: string };
  phone_bindings: { citizen_id: string; phone: string; active_citizen_id: string | null; active_phone: string | null };
}

/** Reads claims from the identity module's citizens and documents and the active phone binding. */
export class DatabaseCitizenDirectory implements CitizenDirectory {
  readonly #db: Kysely<IdentityView>;
  constructor(db: Db) {
    this.#db = db as unknown as Kysely<IdentityView>;
  }

  async claims(citizenId: string): Promise<CitizenClaims | undefined> {
    const citizen = await this.#db.selectFrom('citizens').selectAll().where('id', '=', citizenId).executeTakeFirst();
    if (!citizen) return undefined;
    const phone = await this.#db.selectFrom('phone_bindings').select('phone').where('active_citizen_id', '=', citizenId).executeTakeFirst();
    const document = await this.#db
      .selectFrom('identity_documents')
      .select(['kind', 'series', 'number', 'expires_on'])
      .where('citizen_id', '=', citizenId)
      .orderBy('expires_on', 'desc')
      .executeTakeFirst();
    return {
      citizenId,
      pinfl: citizen.pinfl,
      names: {
        latn: { given: citizen.given_name_latn, family: citizen.surname_latn, middle: citizen.patronymic_latn },
        cyrl: { given: citizen.given_name_cyrl, family: citizen.surname_cyrl, middle: citizen.patronymic_cyrl },
      },
      birthdate: citizen.birth_date,
      phoneNumber: phone?.phone ?? null,
      document: document ? { kind: document.kind, series: document.series, number: document.number, expiresOn: document.expires_on } : null,
    };
  }

  async resolveLoginHint(hint: { phone?: string; pinfl?: string }): Promise<string | undefined> {
    if (hint.phone) {
      const row = await this.#db.selectFrom('phone_bindings').select('active_citizen_id').where('active_phone', '=', hint.phone).executeTakeFirst();
      return row?.active_citizen_id ?? undefined;
    }
    if (hint.pinfl) {
      const row = await this.#db.selectFrom('citizens').select('id').where('pinfl', '=', hint.pinfl).executeTakeFirst();
      if (!row) return undefined;
      const bound = await this.#db.selectFrom('phone_bindings').select('citizen_id').where('active_citizen_id', '=', row.id).executeTakeFirst();
      return bound ? row.id : undefined;
    }
    return undefined;
  }
}

/** Claims by scope, as published in discovery. Names come in Latin and Cyrillic script. */
export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: [
    'name', 'given_name', 'family_name', 'middle_name',
    'name#uz-Cyrl', 'given_name#uz-Cyrl', 'family_name#uz-Cyrl', 'middle_name#uz-Cyrl',
  ],
  pinfl: ['pinfl'],
  birthdate: ['birthdate'],
  phone: ['phone_number', 'phone_number_verified'],
  document: ['document'],
};

export function claimsFromCitizen(subject: string, citizen: CitizenClaims): Record<string, unknown> {
  const { latn, cyrl } = citizen.names;
  return {
    sub: subject,
    name: `${latn.given} ${latn.family}`,
    given_name: latn.given,
    family_name: latn.family,
    middle_name: latn.middle,
    'name#uz-Cyrl': `${cyrl.given} ${cyrl.family}`,
    'given_name#uz-Cyrl': cyrl.given,
    'family_name#uz-Cyrl': cyrl.family,
    'middle_name#uz-Cyrl': cyrl.middle,
    pinfl: citizen.pinfl,
    birthdate: citizen.birthdate,
    ...(citizen.phoneNumber ? { phone_number: citizen.phoneNumber, phone_number_verified: true } : {}),
    ...(citizen.document
      ? { document: { type: citizen.document.kind, series: citizen.document.series, number: citizen.document.number, expires_on: citizen.document.expiresOn } }
      : {}),
  };
}
