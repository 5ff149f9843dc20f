import { sql } from 'kysely';
import type { Db, Dialect } from '../../platform/db/index.ts';
import { RING_SLOTS, RING_TABLES, type RingTableName } from '../schema.ts';

/** Width of one expiry bucket. With 8 slots a row can expire up to 90 minutes ahead. */
export const BUCKET_MS = 15 * 60_000;

export function bucketOf(epochMs: number): number {
  return Math.floor(epochMs / BUCKET_MS);
}

export function slotOf(bucket: number): number {
  return ((bucket % RING_SLOTS) + RING_SLOTS) % RING_SLOTS;
}

/**
 * The ring of expiry-bucket tables. Slot s holds rows expiring in one bucket b (b ≡ s mod 8).
 * Once b has passed, `advance` empties the slot whole (TRUNCATE on PostgreSQL, an unfiltered
 * DELETE on SQLite, which it turns into a truncate) and assigns it the next bucket it will
 * serve. A writer only uses a slot the ring says holds the row's bucket; otherwise (the
 * slot is still being recycled, or the expiry is past the horizon) the row goes to the
 * durable table, so no row is ever put where a truncate could take it before it expires.
 */
export class ExpiryRing {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #dialect: Dialect;
  /** slot → bucket it holds, as last read from the database. */
  #slots = new Map<number, number>();

  constructor(db: Db, dialect: Dialect, now: () => number) {
    this.#db = db;
    this.#dialect = dialect;
    this.#now = now;
  }

  /** The ring table for a row expiring at `expiresAt`, or undefined when it must go elsewhere. */
  tableFor(expiresAt: number): RingTableName | undefined {
    const bucket = bucketOf(expiresAt);
    const current = bucketOf(this.#now());
    if (bucket < current || bucket >= current + RING_SLOTS) return undefined;
    const slot = slotOf(bucket);
    return this.#slots.get(slot) === bucket ? RING_TABLES[slot] : undefined;
  }

  /**
   * Recycles every slot whose bucket has passed and reloads the slot map. Safe to run from
   * several instances at once: the conditional update decides which one empties a slot.
   * Returns how many slots were emptied.
   */
  async advance(): Promise<number> {
    const current = bucketOf(this.#now());
    let emptied = 0;
    for (let slot = 0; slot < RING_SLOTS; slot++) {
      const target = current + slotOf(slot - current);
      const recycled = await this.#db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('oidc_ring_slots').select('bucket').where('slot', '=', slot).executeTakeFirst();
        if (row && row.bucket >= current) return false;
        if (row) {
          const claimed = await tx
            .updateTable('oidc_ring_slots')
            .set({ bucket: target })
            .where('slot', '=', slot)
            .where('bucket', '=', row.bucket)
            .executeTakeFirst();
          if (Number(claimed.numUpdatedRows) !== 1) return false;
        } else {
          const inserted = await tx
            .insertInto('oidc_ring_slots')
            .values({ slot, bucket: target })
            .onConflict((oc) => oc.column('slot').doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
        }
        const table = RING_TABLES[slot]!;
        if (this.#dialect === 'postgres') await sql`truncate table ${sql.table(table)}`.execute(tx);
        else await tx.deleteFrom(table).execute();
        return true;
      });
      if (recycled) emptied++;
    }
    const rows = await this.#db.selectFrom('oidc_ring_slots').select(['slot', 'bucket']).execute();
    this.#slots = new Map(rows.map((r) => [r.slot, r.bucket]));
    return emptied;
  }
}
