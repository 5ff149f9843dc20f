import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db, Tx } from './index.ts';

const MARK = '\u0000tasdiq-slot:';

type Slot = { readonly name: string } | { readonly value: unknown };

/**
 * A hot query built and compiled once per database kind, then run with new values. Kysely
 * builds every query as a tree of frozen nodes and compiles it afresh: tens of microseconds
 * for a join, paid thousands of times a second on the sign-in path. `build` names its inputs
 * through `args` (each a scalar placed where Kysely makes a parameter of it, never an array)
 * and must not branch on them: it runs once, with placeholders, and its SQL is reused.
 */
export function prepared<A extends Record<string, unknown>, O>(build: (db: Db, args: A) => Compilable<O>): (db: Db | Tx, args: A) => Promise<QueryResult<O>> {
  const plans = new Map<unknown, { compiled: CompiledQuery<O>; slots: Slot[] }>();
  return async (db, args) => {
    // The adapter tells the SQL dialect: one plan for PostgreSQL, one for SQLite.
    const kind = db.getExecutor().adapter.constructor;
    let plan = plans.get(kind);
    if (!plan) {
      const placeholders = new Proxy({}, { get: (_target, name) => `${MARK}${String(name)}` }) as A;
      const compiled = build(db as Db, placeholders).compile();
      const slots = compiled.parameters.map((value): Slot => (typeof value === 'string' && value.startsWith(MARK) ? { name: value.slice(MARK.length) } : { value }));
      plan = { compiled, slots };
      plans.set(kind, plan);
    }
    const parameters = plan.slots.map((slot) => ('name' in slot ? args[slot.name] : slot.value));
    return db.executeQuery<O>({ ...plan.compiled, parameters });
  };
}
