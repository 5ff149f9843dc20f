import type { Db } from '../platform/db/index.ts';
import type { Office, OfficeKind, OfficeTable } from './schema.ts';
import type { Insertable } from 'kysely';

export interface OfficeQuery {
  readonly region?: string | undefined;
  readonly kind?: OfficeKind | undefined;
  /** Return offices whose id sorts after this one (keyset pagination). */
  readonly after?: string | undefined;
  readonly limit: number;
}

export class OfficeRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async list(query: OfficeQuery): Promise<Office[]> {
    let q = this.#db.selectFrom('offices').selectAll().where('active', '=', 1);
    if (query.region) q = q.where('region', '=', query.region);
    if (query.kind) q = q.where('kind', '=', query.kind);
    if (query.after) q = q.where('id', '>', query.after);
    return q.orderBy('id').limit(query.limit).execute();
  }

  async findById(id: string): Promise<Office | undefined> {
    return this.#db.selectFrom('offices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Inserts offices that are not there yet; existing ids are left as they are. */
  async insertMissing(offices: readonly Insertable<OfficeTable>[]): Promise<number> {
    if (offices.length === 0) return 0;
    const result = await this.#db
      .insertInto('offices')
      .values([...offices])
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }
}
