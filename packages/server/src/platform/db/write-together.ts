import type { Compilable, Insertable, OperationNodeSource } from 'kysely';
import { isPostgres, type Db, type Tx } from './index.ts';
import type { Database } from './types.ts';

/** A row for one table, written only when the leading write changed a row. */
export interface FollowingRow<T extends keyof Database = keyof Database> {
  readonly table: T;
  readonly row: Insertable<Database[T]>;
}

/** Builds `table`'s row for `rowOf`, keeping the table name and the row's type tied together. */
export function following<T extends keyof Database>(table: T, row: Insertable<Database[T]>): FollowingRow {
  return { table, row } as unknown as FollowingRow;
}

/** The leading write: an INSERT or UPDATE that returns `id` for each row it wrote. */
type Leading = (db: Db | Tx) => Compilable<{ id: string }> & OperationNodeSource & { execute(): Promise<Array<{ id: string }>> };

/**
 * Writes that belong together, all or none: a leading INSERT or UPDATE, and rows (an audit
 * record, an outbox message) that are written only when the leading write changed a row, so
 * a conditional UPDATE that lost a race writes no audit record either.
 *
 * On PostgreSQL this is ONE statement: the leading write and each following row are
 * data-modifying CTEs (`WITH lead AS (UPDATE ... RETURNING id), w1 AS (INSERT ... SELECT ...
 * FROM lead) SELECT id FROM lead`), which PostgreSQL runs atomically; one round trip instead of
 * BEGIN, n statements and COMMIT, which is what the hot paths spend their time on. SQLite runs
 * in-process, so a transaction costs no round trips there. Given a transaction, the writes run
 * inside it on either database.
 *
 * Returns the ids the leading write returned (empty: nothing was written).
 */
export async function writeTogether(db: Db | Tx, lead: Leading, rows: readonly FollowingRow[]): Promise<string[]> {
  if (isPostgres(db)) {
    // Kysely types each CTE's name into the builder; the chain is built in a loop, so the
    // intermediate types are erased here and the statement's result is typed at the end.
    let query = (db as unknown as ChainableCte).with('lead', () => lead(db));
    rows.forEach(({ table, row }, i) => {
      const columns = Object.keys(row);
      const values = row as Record<string, unknown>;
      query = query.with(`w${i}`, (qc) =>
        qc
          .insertInto(table)
          .columns(columns as never)
          .expression(qc.selectFrom('lead' as never).select((eb) => columns.map((c) => eb.val(values[c]).as(c))) as never)
          .returning(['id' as never]),
      );
    });
    const written = await query.selectFrom('lead').select('id').execute();
    return written.map((r) => r.id);
  }
  const run = async (tx: Db | Tx) => {
    const written = (await lead(tx).execute()).map((r) => r.id);
    if (written.length > 0) for (const { table, row } of rows) await tx.insertInto(table).values(row as never).execute();
    return written;
  };
  return isTransaction(db) ? run(db) : db.transaction().execute(run);
}

function isTransaction(db: Db | Tx): db is Tx {
  return db.isTransaction;
}

/** The part of Kysely's QueryCreator the chain above uses, with its CTE names erased. */
interface ChainableCte {
  with(name: string, expression: (qc: Db) => unknown): ChainableCte;
  selectFrom(table: 'lead'): { select(column: 'id'): { execute(): Promise<Array<{ id: string }>> } };
}
