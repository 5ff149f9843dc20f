import { randomBytes } from 'node:crypto';
import type { Db, Tx } from '../platform/db/index.ts';
import type { Citizen, IdentityDocument } from './schema.ts';
import type { RegistryCitizen } from './registry/types.ts';

export function newCitizenId(): string {
  return `cit_${randomBytes(12).toString('base64url')}`;
}

/** The local copy of registry records for enrolled citizens. */
export class CitizenRepository {
  readonly #db: Db | Tx;
  constructor(db: Db | Tx) {
    this.#db = db;
  }

  findById(id: string): Promise<Citizen | undefined> {
    return this.#db.selectFrom('citizens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByPinfl(pinfl: string): Promise<Citizen | undefined> {
    return this.#db.selectFrom('citizens').selectAll().where('pinfl', '=', pinfl).executeTakeFirst();
  }

  documents(citizenId: string): Promise<IdentityDocument[]> {
    return this.#db.selectFrom('identity_documents').selectAll().where('citizen_id', '=', citizenId).orderBy('expires_on', 'desc').execute();
  }

  /**
   * Stores the registry's current record (insert, or refresh names, photo and documents);
   * call it inside the enrollment transaction. Returns the citizen id.
   */
  async importFromRegistry(record: RegistryCitizen, source: string, now: number): Promise<string> {
    const fields = {
      surname_latn: record.name.latn.surname,
      given_name_latn: record.name.latn.given,
      patronymic_latn: record.name.latn.patronymic,
      surname_cyrl: record.name.cyrl.surname,
      given_name_cyrl: record.name.cyrl.given,
      patronymic_cyrl: record.name.cyrl.patronymic,
      birth_date: record.birthDate,
      sex: record.sex,
      citizenship: record.citizenship,
      photo: record.photo,
      demo: record.demo ? 1 : 0,
      source,
      updated_at: now,
    };
    const existing = await this.findByPinfl(record.pinfl);
    let id: string;
    if (existing) {
      id = existing.id;
      await this.#db.updateTable('citizens').set({ ...fields, row_version: existing.row_version + 1 }).where('id', '=', id).execute();
      await this.#db.deleteFrom('identity_documents').where('citizen_id', '=', id).execute();
    } else {
      id = newCitizenId();
      await this.#db.insertInto('citizens').values({ id, pinfl: record.pinfl, imported_at: now, ...fields }).execute();
    }
    if (record.documents.length > 0) {
      await this.#db
        .insertInto('identity_documents')
        .values(
          record.documents.map((d) => ({
            id: `doc_${randomBytes(9).toString('base64url')}`,
            citizen_id: id,
            kind: d.kind,
            series: d.series.toUpperCase(),
            number: d.number,
            issued_on: d.issuedOn,
            expires_on: d.expiresOn,
            issuing_office: d.issuingOffice,
          })),
        )
        .execute();
    }
    return id;
  }
}
