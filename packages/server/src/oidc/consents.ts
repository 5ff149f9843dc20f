import type { Db, Tx } from '../platform/db/index.ts';

/** What a citizen agreed a service may receive, kept until they withdraw it in the portal. */
export interface Consent {
  readonly citizenId: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly grantedAt: number;
}

export class ConsentRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** The citizen's live consent for a service, if any. */
  async find(citizenId: string, clientId: string): Promise<Consent | undefined> {
    const row = await this.#db
      .selectFrom('oidc_consents')
      .selectAll()
      .where('citizen_id', '=', citizenId)
      .where('client_id', '=', clientId)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    return row ? { citizenId, clientId, scopes: JSON.parse(row.scopes) as string[], grantedAt: row.granted_at } : undefined;
  }

  /** Records consent to these scopes in addition to any given before. */
  async grant(citizenId: string, clientId: string, scopes: readonly string[], now: number): Promise<Consent> {
    const existing = await this.find(citizenId, clientId);
    const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])].sort();
    await this.#db
      .insertInto('oidc_consents')
      .values({ citizen_id: citizenId, client_id: clientId, scopes: JSON.stringify(merged), granted_at: now, withdrawn_at: null })
      .onConflict((oc) => oc.columns(['citizen_id', 'client_id']).doUpdateSet({ scopes: JSON.stringify(merged), granted_at: now, withdrawn_at: null }))
      .execute();
    return { citizenId, clientId, scopes: merged, grantedAt: now };
  }

  /** Withdraws consent: the next sign-in to that service asks again. Returns false if there was none. */
  async withdraw(citizenId: string, clientId: string, now: number, tx: Db | Tx = this.#db): Promise<boolean> {
    const result = await tx
      .updateTable('oidc_consents')
      .set({ withdrawn_at: now })
      .where('citizen_id', '=', citizenId)
      .where('client_id', '=', clientId)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listForCitizen(citizenId: string): Promise<Consent[]> {
    const rows = await this.#db
      .selectFrom('oidc_consents')
      .selectAll()
      .where('citizen_id', '=', citizenId)
      .where('withdrawn_at', 'is', null)
      .orderBy('client_id')
      .execute();
    return rows.map((r) => ({ citizenId, clientId: r.client_id, scopes: JSON.parse(r.scopes) as string[], grantedAt: r.granted_at }));
  }
}
