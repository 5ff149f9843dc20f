import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db, Tx } from './index.ts';
import { keepPrepared } from './named-statements.ts';

const MARK = '\u0000tasdiq-slot:';

/**
 * A parameter a call fills in: its name, and the name split at its first dot (`scope.key`,
 * write-together's `v.status` and `0.action`), both split once when the plan is made. Split
 * on every call, each parameter cost two fresh strings and, for each, a string-table lookup
 * when it was used as a property key: on the sign-in's widest statements, 63 parameters
 * each, that was 2% of the service's CPU (perf, 2026-12-03).
 */
export interface NamedSlot {
  readonly name: string;
  readonly scope: string;
  readonly key: string;
}
type Slot = NamedSlot | { readonly value: unknown };

/** A query compiled with named placeholders: the SQL, and where each parameter comes from. */
export interface Plan<O = unknown> {
  readonly compiled: CompiledQuery<O>;
  readonly slots: readonly Slot[];
}

/** A stand-in for the input `name`: Kysely makes a parameter of it, which a plan later fills. */
export function placeholder(name: string): string {
  return `${MARK}${name}`;
}

/** Compiles `query` once; its parameters that are placeholders become named slots. */
export function planOf<O>(query: Compilable<O>): Plan<O> {
  const compiled = query.compile();
  keepPrepared(compiled.sql);
  const slots = compiled.parameters.map((value): Slot => (typeof value === 'string' && value.startsWith(MARK) ? namedSlot(value.slice(MARK.length)) : { value }));
  return { compiled, slots };
}

function namedSlot(name: string): NamedSlot {
  const dot = name.indexOf('.');
  return dot < 0 ? { name, scope: '', key: name } : { name, scope: name.slice(0, dot), key: name.slice(dot + 1) };
}

/** Runs a plan with this call's values, `valueOf` answering for each named slot. */
export function runPlan<O>(db: Db | Tx, plan: Plan<O>, valueOf: (slot: NamedSlot) => unknown): Promise<QueryResult<O>> {
  const parameters = plan.slots.map((slot) => ('name' in slot ? valueOf(slot) : slot.value));
  return db.executeQuery<O>({ ...plan.compiled, parameters });
}

/** The database kind a handle talks to (its adapter's class): plans are kept per kind. */
export function dialectKey(db: Db | Tx): unknown {
  return db.getExecutor().adapter.constructor;
}

/**
 * A hot query built and compiled once per database kind, then run with new values. Kysely
 * builds every query as a tree of frozen nodes and compiles it afresh: tens of microseconds
 * for a join, paid thousands of times a second on the sign-in path. `build` names its inputs
 * through `args` (each a scalar placed where Kysely makes a parameter of it; an array only as
 * one parameter of an sql`` fragment, e.g. `= any(${args.ids}::text[])`)
 * and must not branch on them: it runs once, with placeholders, and its SQL is reused.
 */
export function prepared<A extends Record<string, unknown>, O>(build: (db: Db, args: A) => Compilable<O>): (db: Db | Tx, args: A) => Promise<QueryResult<O>> {
  const plans = new Map<unknown, Plan<O>>();
  return async (db, args) => {
    const kind = dialectKey(db);
    let plan = plans.get(kind);
    if (!plan) {
      const placeholders = new Proxy({}, { get: (_target, name) => placeholder(String(name)) }) as A;
      plan = planOf(build(db as Db, placeholders));
      plans.set(kind, plan);
    }
    return runPlan(db, plan, (slot) => args[slot.name]);
  };
}
