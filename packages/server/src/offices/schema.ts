import type { Generated, Selectable } from 'kysely';

export const OFFICE_KINDS = ['public_services_center', 'notary'] as const;
export type OfficeKind = (typeof OFFICE_KINDS)[number];

/** Places where a citizen can enroll in person: public services centers and notary offices. */
export interface OfficeTable {
  id: string;
  kind: OfficeKind;
  /** ISO 3166-2:UZ subdivision code, e.g. UZ-TK. */
  region: string;
  name_uz_latn: string;
  name_uz_cyrl: string;
  name_ru: string;
  name_en: string;
  address: string;
  /** 0/1: whether the office enrolls citizens now. */
  active: number;
  created_at: number;
  row_version: Generated<number>;
}

export type Office = Selectable<OfficeTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    offices: OfficeTable;
  }
}
