import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * `column IN ('a', 'b')` with the constants written into the SQL text, for the conditions that
 * partial indexes are defined by. A partial index serves a query only where the planner can
 * prove the index's predicate from the query's own conditions, and from a bound parameter it
 * cannot: not in PostgreSQL's generic plans, which every prepared hot statement runs on after
 * its fifth call, and not in SQLite. The same expression builds the index (`createIndex
 * ...where(...)`) and the queries it serves, so the two cannot drift apart.
 *
 * Constants of the code only: never a value that came from a request.
 */
export function oneOf(column: string, values: readonly string[]): RawBuilder<SqlBool> {
  // One value as `=`, the form PostgreSQL keeps it in (and reports back in its catalog).
  if (values.length === 1) return sql<SqlBool>`${sql.ref(column)} = ${sql.lit(values[0])}`;
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}
