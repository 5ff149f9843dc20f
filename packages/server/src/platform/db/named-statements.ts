import pg from 'pg';

/**
 * SQL texts that PostgreSQL keeps parsed, one server-side prepared statement per text on each
 * connection. A statement sent unnamed is parsed, analysed and planned again on every call:
 * on the sign-in path that was about half of PostgreSQL's CPU (measured with perf). Named, it
 * is parsed once per connection, and after five runs PostgreSQL may keep a generic plan.
 *
 * Only texts that code registers (the hot queries `planOf` compiles once) are named, so the
 * set is bounded by the code, not by the data: node-postgres cannot drop a statement it
 * prepared, and a name per ad hoc text would grow every connection without end.
 */
const names = new Map<string, string>();

export function keepPrepared(sqlText: string): void {
  if (!names.has(sqlText)) names.set(sqlText, `tasdiq_${names.size + 1}`);
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was
 * prepared (a migration added a column to a `select *` table while this process ran).
 */
function isStalePlan(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

/** A node-postgres client that runs registered texts as named statements. */
export class NamedStatementClient extends pg.Client {
  /** Bumped when a schema change made this connection's statements stale: names are fresh again. */
  #generation = 0;
  #inTransaction = false;

  // Kysely calls query(text, parameters) and awaits the promise; every other form passes through.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const query = super.query as (...a: unknown[]) => never;
    if (typeof text !== 'string') return query.apply(this, args);
    if (/^(begin|start transaction)\b/i.test(text)) this.#inTransaction = true;
    else if (/^(commit|rollback)\b/i.test(text)) this.#inTransaction = false;
    if (args.length !== 2 || !Array.isArray(values) || !names.has(text)) return query.apply(this, args);
    return this.#named(text, values, query) as never;
  }

  #nameOf(text: string): string {
    const name = names.get(text)!;
    return this.#generation === 0 ? name : `${name}_${this.#generation}`;
  }

  async #named(text: string, values: unknown[], query: (...a: unknown[]) => Promise<unknown>): Promise<unknown> {
    try {
      return await query.call(this, { name: this.#nameOf(text), text, values });
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      // Statements prepared before the change stay behind until the connection closes (a
      // schema change is rare); later calls prepare afresh. Outside a transaction nothing was
      // done yet, so the call is made again; inside one, the transaction has failed and its
      // caller decides.
      this.#generation++;
      if (this.#inTransaction) throw error;
      return await query.call(this, { name: this.#nameOf(text), text, values });
    }
  }
}
