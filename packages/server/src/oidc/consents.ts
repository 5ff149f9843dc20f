import type { Db, Tx } from '../platform/db/index.ts';
import { recordAudit } from '../audit/audit.ts';

/** What a citizen agreed a service may receive, kept until they withdraw it in the portal. */
export interface Consent {
  readonly citizenId: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Individual claims asked with the `claims` request parameter beyond those the scopes cover. */
  readonly claims: readonly string[];
  readonly grantedAt: number;
}

function parseList(json: string | null | undefined): string[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}

export class ConsentRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** The citizen's live consent for a service, if any. */
  async find(citizenId: string, clientId: string, tx: Db | Tx = this.#db): Promise<Consent | undefined> {
    const row = await tx
      .selectFrom('oidc_consents')
      .selectAll()
      .where('citizen_id', '=', citizenId)
      .where('client_id', '=', clientId)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    return row ? { citizenId, clientId, scopes: parseList(row.scopes), claims: parseList(row.claims), grantedAt: row.granted_at } : undefined;
  }

  /**
   * Records consent to these scopes and claims in addition to any given before, audited
   * (`oidc.consent_given`, with what was added) in the same transaction.
   */
  async grant(
    citizenId: string,
    clientId: string,
    given: { readonly scopes: readonly string[]; readonly claims: readonly string[] },
    now: number,
    actor: { readonly requestId?: string } = {},
  ): Promise<Consent> {
    return this.#db.transaction().execute(async (tx) => {
      const existing = await this.find(citizenId, clientId, tx);
      const scopes = [...new Set([...(existing?.scopes ?? []), ...given.scopes])].sort();
      const claims = [...new Set([...(existing?.claims ?? []), ...given.claims])].sort();
      const values = { scopes: JSON.stringify(scopes), claims: JSON.stringify(claims), granted_at: now, withdrawn_at: null };
      await tx
        .insertInto('oidc_consents')
        .values({ citizen_id: citizenId, client_id: clientId, ...values })
        .onConflict((oc) => oc.columns(['citizen_id', 'client_id']).doUpdateSet(values))
        .execute();
      await recordAudit(
        tx,
        {
          actorType: 'citizen',
          actorId: citizenId,
          action: 'oidc.consent_given',
          subjectCitizenId: citizenId,
          details: { clientId, scopes: [...new Set(given.scopes)].sort(), claims: [...new Set(given.claims)].sort() },
          ...(actor.requestId ? { requestId: actor.requestId } : {}),
        },
        now,
      );
      return { citizenId, clientId, scopes, claims, grantedAt: now };
    });
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
    return rows.map((r) => ({ citizenId, clientId: r.client_id, scopes: parseList(r.scopes), claims: parseList(r.claims), grantedAt: r.granted_at }));
  }
}
