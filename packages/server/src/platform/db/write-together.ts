import { sql, type Compilable, type Insertable, type OperationNodeSource, type SqlBool } from 'kysely';
import { isPostgres, type Db, type Tx } from './index.ts';
import { dialectKey, placeholder, planOf, runPlan, type NamedSlot, type Plan } from './prepared.ts';
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
  if (isPostgres(db)) return (await togetherQuery(db, lead, rows).execute()).map((r) => r.id);
  return leadThenRows(
    db,
    async (tx) => (await lead(tx).execute()).map((r) => r.id),
    async (tx) => {
      for (const { table, row } of rows) await tx.insertInto(table).values(row as never).execute();
    },
  );
}

/**
 * SQLite's form of a group: the leading write, then (only if it wrote a row) the following
 * rows, in one transaction (the caller's, if it is in one).
 */
async function leadThenRows(db: Db | Tx, writeLead: (tx: Db | Tx) => Promise<string[]>, writeRows: (tx: Db | Tx) => Promise<void>): Promise<string[]> {
  const run = async (tx: Db | Tx) => {
    const written = await writeLead(tx);
    if (written.length > 0) await writeRows(tx);
    return written;
  };
  return inTransaction(db, run);
}

/**
 * The PostgreSQL statement: the leading write and each following row as data-modifying CTEs;
 * with a gate, the gate's write comes first (CTE `gate`) and the statement answers one row:
 * how many rows the gate wrote, and the ids the lead wrote.
 */
function togetherQuery(db: Db | Tx, lead: Leading, rows: readonly FollowingRow[], gate?: Gating): Compilable<{ id: string }> & { execute(): Promise<Array<{ id: string }>> } {
  // Kysely types each CTE's name into the builder; the chain is built in a loop, so the
  // intermediate types are erased here and the statement's result is typed at the end.
  let query = db as unknown as ChainableCte;
  if (gate) query = query.with('gate', () => gate(db));
  query = query.with('lead', () => lead(db));
  rows.forEach(({ table, row }, i) => {
    const columns = Object.keys(row);
    const values = row as Record<string, unknown>;
    query = query.with(`w${i}`, (qc) =>
      qc
        .insertInto(table)
        .columns(columns as never)
        .expression(qc.selectFrom('lead' as never).select((eb) => columns.map((c) => eb.val(values[c]).as(c))) as never),
    );
  });
  if (gate) return query.selectNoFrom(() => [sql<number>`(select count(*)::int from gate)`.as('passed'), sql<string[] | null>`(select array_agg(id) from lead)`.as('ids')]) as never;
  return query.selectFrom('lead').select('id');
}

/** Runs `run` in the caller's transaction, or in one of its own. */
function inTransaction<T>(db: Db | Tx, run: (tx: Db | Tx) => Promise<T>): Promise<T> {
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** The part of Kysely's QueryCreator the chain above uses, with its CTE names erased. */
interface ChainableCte {
  with(name: string, expression: (qc: Db) => unknown): ChainableCte;
  selectFrom(table: 'lead'): { select(column: 'id'): Compilable<{ id: string }> & { execute(): Promise<Array<{ id: string }>> } };
  selectNoFrom(selection: () => unknown[]): unknown;
}

/** The leading write of a prepared group, built from placeholders standing for `values`. */
type LeadingOf<V> = (db: Db | Tx, values: V) => Compilable<{ id: string }> & OperationNodeSource & { execute(): Promise<Array<{ id: string }>> };

/** The statements of one shape of a group: one on PostgreSQL; the lead and each row on SQLite. */
type GroupPlans = { readonly together: Plan<{ id: string }> } | { readonly lead: Plan<{ id: string }>; readonly rows: ReadonlyArray<Plan<unknown>> };

/**
 * writeTogether for a hot path, compiled once per shape: `lead` is built from `values`, and
 * both are given as placeholders on the first call of each shape (the keys of `values` and the
 * tables and columns of `rows`), so `lead` may depend on which keys `values` has but never on
 * what they hold. Later calls of that shape only fill in parameters: no query building or
 * compiling, which costs more CPU than the statement's round trip on the sign-in path.
 */
export function preparedTogether<V extends Record<string, unknown>>(lead: LeadingOf<V>): (db: Db | Tx, values: V, rows: readonly FollowingRow[]) => Promise<string[]> {
  const plansOf = shapedPlans<V, GroupPlans>((db, leadValues, rowValues) =>
    isPostgres(db)
      ? { together: planOf(togetherQuery(db, (qc) => lead(qc, leadValues), rowValues)) }
      : { lead: planOf(lead(db, leadValues)), rows: rowPlansOf(db, rowValues) },
  );
  return async (db, values, rows) => {
    const group = plansOf(db, values, rows);
    const valueOf = valuesOf(values, rows);
    if ('together' in group) return (await runPlan(db, group.together, valueOf)).rows.map((r) => r.id);
    return planLeadThenRows(db, group.lead, group.rows, valueOf);
  };
}

/** leadThenRows for a group's compiled plans (SQLite). */
function planLeadThenRows(db: Db | Tx, leadPlan: Plan<{ id: string }>, rowPlans: ReadonlyArray<Plan<unknown>>, valueOf: (slot: NamedSlot) => unknown): Promise<string[]> {
  return leadThenRows(
    db,
    async (tx) => (await runPlan(tx, leadPlan, valueOf)).rows.map((r) => r.id),
    async (tx) => {
      for (const plan of rowPlans) await runPlan(tx, plan, valueOf);
    },
  );
}

/**
 * A group's plans, kept per database kind and shape and built on a shape's first call, from
 * placeholders standing for `values` and the rows' values. A call finds its shape by comparing
 * keys in place: a call site has a handful of shapes, and a key built from every column name
 * cost a long string, and hashing it, on every statement of the sign-in path.
 */
function shapedPlans<V extends Record<string, unknown>, P>(build: (db: Db | Tx, values: V, rows: FollowingRow[]) => P): (db: Db | Tx, values: V, rows: readonly FollowingRow[]) => P {
  const plans = new Map<unknown, Array<{ readonly shape: Shape; readonly group: P }>>();
  return (db, values, rows) => {
    const kind = dialectKey(db);
    let shapes = plans.get(kind);
    if (!shapes) plans.set(kind, (shapes = []));
    for (const { shape, group } of shapes) if (hasShape(shape, values, rows)) return group;
    const { leadValues, rowValues } = placeholdersOf(values, rows);
    const group = build(db, leadValues, rowValues);
    shapes.push({ shape: shapeOf(values, rows), group });
    return group;
  };
}

/** SQLite's plans for the following rows: one INSERT each. */
function rowPlansOf(db: Db | Tx, rows: readonly FollowingRow[]): Array<Plan<unknown>> {
  return rows.map(({ table, row }) => planOf(db.insertInto(table).values(row as never)));
}

/** A group's shape: which keys `values` has and which tables and columns its rows fill. */
interface Shape {
  readonly keys: readonly string[];
  readonly rows: ReadonlyArray<{ readonly table: string; readonly keys: readonly string[] }>;
}

function shapeOf(values: Record<string, unknown>, rows: readonly FollowingRow[]): Shape {
  return { keys: Object.keys(values), rows: rows.map(({ table, row }) => ({ table, keys: Object.keys(row) })) };
}

function hasShape(shape: Shape, values: Record<string, unknown>, rows: readonly FollowingRow[]): boolean {
  if (shape.rows.length !== rows.length || !hasKeys(values, shape.keys)) return false;
  return shape.rows.every((expected, i) => expected.table === rows[i]!.table && hasKeys(rows[i]!.row as Record<string, unknown>, expected.keys));
}

/** Whether `object`'s own keys are `keys`, in that order (the order its plan's columns were compiled in). */
function hasKeys(object: Record<string, unknown>, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in object) if (key !== keys[i++]) return false;
  return i === keys.length;
}

/** `values` and `rows` with a placeholder in place of every value, to compile a shape once. */
function placeholdersOf<V extends Record<string, unknown>>(values: V, rows: readonly FollowingRow[]): { leadValues: V; rowValues: FollowingRow[] } {
  const leadValues = Object.fromEntries(Object.keys(values).map((k) => [k, placeholder(`v.${k}`)])) as V;
  const rowValues = rows.map(({ table, row }, i) => following(table, Object.fromEntries(Object.keys(row).map((c) => [c, placeholder(`${i}.${c}`)])) as never));
  return { leadValues, rowValues };
}

/** Answers a plan's named slots from this call's `values` (`v.key`) and rows (`i.column`). */
function valuesOf(values: Record<string, unknown>, rows: readonly FollowingRow[]): (slot: NamedSlot) => unknown {
  return (slot) => (slot.scope === 'v' ? values[slot.key] : (rows[Number(slot.scope)]!.row as Record<string, unknown>)[slot.key]);
}

/** A gate's write: a conditional UPDATE ... RETURNING, whose rows say the gate passed. */
type Gating = (db: Db | Tx) => Compilable<unknown> & OperationNodeSource;
type GatingOf<V> = (db: Db | Tx, values: V) => Compilable<unknown> & OperationNodeSource;

/** In the lead of a gated group: true once the gate wrote a row (PostgreSQL's form). */
export const GATE_PASSED = sql<SqlBool>`exists (select 1 from gate)`;

/**
 * preparedTogether behind a gate: a conditional write that must succeed first (a device's
 * request counter moving forward) and the group that is written only then, in one statement on
 * PostgreSQL, so the round trip and the commit of the gate's own statement are saved. The lead
 * must carry `GATE_PASSED` in its condition when `gated` says so (PostgreSQL); on SQLite the
 * gate runs first in the group's transaction and the group only if it passed. Answers whether
 * the gate passed (if not, nothing was written) and the ids the lead wrote.
 */
export function preparedTogetherGated<V extends Record<string, unknown>>(
  gate: GatingOf<V>,
  lead: (db: Db | Tx, values: V, gated: boolean) => ReturnType<LeadingOf<V>>,
): (db: Db | Tx, values: V, rows: readonly FollowingRow[]) => Promise<{ passed: boolean; ids: string[] }> {
  type GatedPlans = { readonly together: Plan<{ passed: number; ids: string[] | null }> } | { readonly gate: Plan<unknown>; readonly lead: Plan<{ id: string }>; readonly rows: ReadonlyArray<Plan<unknown>> };
  const plansOf = shapedPlans<V, GatedPlans>((db, leadValues, rowValues) =>
    isPostgres(db)
      ? { together: planOf(togetherQuery(db, (qc) => lead(qc, leadValues, true), rowValues, (qc) => gate(qc, leadValues))) as unknown as Plan<{ passed: number; ids: string[] | null }> }
      : { gate: planOf(gate(db, leadValues)), lead: planOf(lead(db, leadValues, false)), rows: rowPlansOf(db, rowValues) },
  );
  return async (db, values, rows) => {
    const group = plansOf(db, values, rows);
    const valueOf = valuesOf(values, rows);
    if ('together' in group) {
      const answer = (await runPlan(db, group.together, valueOf)).rows[0]!;
      return { passed: answer.passed > 0, ids: answer.ids ?? [] };
    }
    const { gate: gatePlan, lead: leadPlan, rows: rowPlans } = group;
    return inTransaction(db, async (tx) => {
      if ((await runPlan(tx, gatePlan, valueOf)).rows.length === 0) return { passed: false, ids: [] };
      return { passed: true, ids: await planLeadThenRows(tx, leadPlan, rowPlans, valueOf) };
    });
  };
}
