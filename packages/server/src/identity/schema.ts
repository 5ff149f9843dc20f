import type { Generated, Selectable } from 'kysely';

/** A citizen imported from the population registry when enrolled. Keyed internally by `cit_...`. */
export interface CitizenTable {
  id: string;
  pinfl: string;
  surname_latn: string;
  given_name_latn: string;
  patronymic_latn: string;
  surname_cyrl: string;
  given_name_cyrl: string;
  patronymic_cyrl: string;
  /** YYYY-MM-DD. */
  birth_date: string;
  sex: 'M' | 'F';
  /** ISO 3166-1 alpha-2. */
  citizenship: string;
  /** Data URL of the registry photo, or null. */
  photo: string | null;
  /** 0/1: the record came from the synthetic demo registry. */
  demo: number;
  /** Which registry it came from (`demo`, `file`, `http`). */
  source: string;
  imported_at: number;
  updated_at: number;
  row_version: Generated<number>;
}

export const DOCUMENT_KINDS = ['id_card', 'passport'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface IdentityDocumentTable {
  id: string;
  citizen_id: string;
  kind: DocumentKind;
  series: string;
  number: string;
  /** YYYY-MM-DD. */
  issued_on: string;
  expires_on: string;
  issuing_office: string;
}

export type Citizen = Selectable<CitizenTable>;
export type IdentityDocument = Selectable<IdentityDocumentTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    citizens: CitizenTable;
    identity_documents: IdentityDocumentTable;
  }
}
