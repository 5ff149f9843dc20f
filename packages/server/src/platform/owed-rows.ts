import type { ApiError } from './errors.ts';
import { isUniqueViolation, type Db } from './db/index.ts';
import type { FollowingRow } from './db/write-together.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Rows this request must write whatever its outcome (see OwedRows). */
    owed?: OwedRows;
  }
}

/**
 * Rows a request owes the database whatever its outcome, such as the record that a relying
 * party's client assertion is used. A route whose own write can carry them takes them into
 * that statement (one commit, and the write fails as a whole if they conflict); `settle`
 * writes them alone for a request that ended without such a write, so a failed request
 * consumes them too.
 */
export class OwedRows {
  readonly rows: readonly FollowingRow[];
  readonly #conflict: () => ApiError;
  #written = false;

  /** `conflict`: the error for a request whose rows are already there (a replay). */
  constructor(rows: readonly FollowingRow[], conflict: () => ApiError) {
    this.rows = rows;
    this.#conflict = conflict;
  }

  /** The route's write carried the rows and committed. */
  written(): void {
    this.#written = true;
  }

  /**
   * After the route: `failure` is what it threw, if anything. A conflict on the owed rows
   * becomes their own error; rows not yet written are written now (a conflict again is theirs).
   */
  async settle(db: Db, failure?: unknown): Promise<void> {
    if (failure !== undefined && this.#isOwnConflict(failure)) throw this.#conflict();
    if (this.#written) return;
    try {
      await db.transaction().execute(async (tx) => {
        for (const { table, row } of this.rows) await tx.insertInto(table).values(row as never).execute();
      });
      this.#written = true;
    } catch (error) {
      if (this.#isOwnConflict(error)) throw this.#conflict();
      throw error;
    }
  }

  #isOwnConflict(error: unknown): boolean {
    return this.rows.some(({ table }) => isUniqueViolation(error, table));
  }
}
