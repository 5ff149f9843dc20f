import { sql } from 'kysely';
import { isStorableText, type Db } from '../../platform/db/index.ts';
import { RING_TABLES, type OidcStateRow, type RingTableName } from '../schema.ts';
import type { ExpiryRing } from './ring.ts';
import { LONG_LIVED_MODELS, RESAVED_MODELS, type AdapterPayload, type ProviderAdapter } from './types.ts';

type StateTable = RingTableName | 'oidc_durable';
const ALL_TABLES: readonly StateTable[] = [...RING_TABLES, 'oidc_durable'];
/** Rows without an expiry are kept ten years: oidc-provider gives one to everything we store. */
const NO_EXPIRY_MS = 10 * 365 * 86_400_000;

/** Grants are looked up by citizen and client when a citizen withdraws consent. */
function subjectOf(model: string, payload: AdapterPayload): { account_id: string | null; client_id: string | null } {
  if (model !== 'Grant') return { account_id: null, client_id: null };
  return {
    account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
    client_id: typeof payload.clientId === 'string' ? payload.clientId : null,
  };
}

function toPayload(row: Pick<OidcStateRow, 'payload' | 'consumed_at'>): AdapterPayload {
  const payload = JSON.parse(row.payload) as AdapterPayload;
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  return payload;
}

/** oidc-provider storage for one model on the service database (SQLite or PostgreSQL). */
export class SqlAdapter implements ProviderAdapter {
  readonly #db: Db;
  readonly #model: string;
  readonly #ring: ExpiryRing;
  readonly #now: () => number;
  readonly #tables: readonly StateTable[];
  /**
   * Which table a row was last seen in, so consuming or destroying it is one statement, not
   * one per ring table. A stale entry (another instance moved the row) only costs the
   * fallback over every table.
   */
  readonly #location = new Map<string, StateTable>();

  constructor(model: string, db: Db, ring: ExpiryRing, now: () => number) {
    this.#model = model;
    this.#db = db;
    this.#ring = ring;
    this.#now = now;
    this.#tables = LONG_LIVED_MODELS.has(model) ? ['oidc_durable'] : ALL_TABLES;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const expiresAt = this.#now() + (expiresIn === undefined ? NO_EXPIRY_MS : expiresIn * 1000);
    const target: StateTable = LONG_LIVED_MODELS.has(this.#model) ? 'oidc_durable' : (this.#ring.tableFor(expiresAt) ?? 'oidc_durable');
    const row = {
      model: this.#model,
      id,
      payload: JSON.stringify(payload),
      grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      expires_at: expiresAt,
      consumed_at: null,
    };
    const write = async (db: Db) => {
      await db
        .insertInto(target)
        .values(target === 'oidc_durable' ? { ...row, ...subjectOf(this.#model, payload) } : row)
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, uid: row.uid, expires_at: row.expires_at }),
        )
        .execute();
    };
    this.#remember(id, target);
    if (!RESAVED_MODELS.has(this.#model)) return write(this.#db);
    // A re-saved row may have moved to another bucket; it must live in exactly one table.
    await this.#db.transaction().execute(async (tx) => {
      for (const table of this.#tables) {
        if (table !== target) await tx.deleteFrom(table).where('model', '=', this.#model).where('id', '=', id).execute();
      }
      await write(tx);
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    // Ids come from requests (codes, tokens, cookies, URLs); one no database could store
    // was never stored.
    if (!isStorableText(id)) return undefined;
    // One statement over every table the model may be in: a union of primary-key probes.
    const now = this.#now();
    const probe = (table: StateTable) =>
      this.#db
        .selectFrom(table)
        .select(['payload', 'consumed_at', sql.lit(table).as('location')])
        .where('model', '=', this.#model)
        .where('id', '=', id)
        .where('expires_at', '>', now);
    const [first, ...rest] = this.#tables;
    let query = probe(first!);
    for (const table of rest) query = query.unionAll(probe(table));
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    this.#remember(id, row.location as StateTable);
    return toPayload(row);
  }

  #remember(id: string, table: StateTable): void {
    if (this.#tables.length === 1) return;
    if (this.#location.size >= 10_000) this.#location.delete(this.#location.keys().next().value!);
    this.#location.set(id, table);
  }

  /** The last known table first, then every other one. */
  #candidates(id: string): StateTable[] {
    const known = this.#location.get(id);
    return known ? [known, ...this.#tables.filter((t) => t !== known)] : [...this.#tables];
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (!isStorableText(uid)) return undefined;
    const row = await this.#db
      .selectFrom('oidc_durable')
      .select(['payload', 'consumed_at'])
      .where('uid', '=', uid)
      .where('model', '=', this.#model)
      .where('expires_at', '>', this.#now())
      .executeTakeFirst();
    return row ? toPayload(row) : undefined;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    // The device authorization grant is not enabled; nothing is stored by user code.
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const at = this.#now();
    for (const table of this.#candidates(id)) {
      const result = await this.#db
        .updateTable(table)
        .set({ consumed_at: at })
        .where('model', '=', this.#model)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) return;
    }
  }

  async destroy(id: string): Promise<void> {
    const known = this.#location.get(id);
    this.#location.delete(id);
    if (known) {
      // Rows of models saved once live in one table; re-saved ones are moved, never copied.
      const result = await this.#db.deleteFrom(known).where('model', '=', this.#model).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) > 0) return;
    }
    for (const table of this.#tables) {
      await this.#db.deleteFrom(table).where('model', '=', this.#model).where('id', '=', id).execute();
    }
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const table of this.#tables) {
      await this.#db.deleteFrom(table).where('grant_id', '=', grantId).where('model', '=', this.#model).execute();
    }
  }
}

/** Removes expired rows from the durable table in small batches; returns how many went. */
export async function purgeDurable(db: Db, now: number, batchSize = 500, maxBatches = 20): Promise<number> {
  let removed = 0;
  for (let i = 0; i < maxBatches; i++) {
    const expired = await db
      .selectFrom('oidc_durable')
      .select(['model', 'id'])
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(batchSize)
      .execute();
    if (expired.length === 0) break;
    const byModel = new Map<string, string[]>();
    for (const row of expired) byModel.set(row.model, [...(byModel.get(row.model) ?? []), row.id]);
    for (const [model, ids] of byModel) {
      const result = await db.deleteFrom('oidc_durable').where('model', '=', model).where('id', 'in', ids).where('expires_at', '<=', now).executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    if (expired.length < batchSize) break;
  }
  return removed;
}
