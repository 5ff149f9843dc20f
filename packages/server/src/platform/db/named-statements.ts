import pg from 'pg';
import { createRequire } from 'node:module';

/** The parts of node-postgres's Query, Result and Connection that KnownShapeQuery works with. */
interface PgQueryInternals {
  readonly text: string;
  name: string;
  readonly portal: string;
  readonly values: unknown[];
  readonly binary: boolean | undefined;
  _result: { fields: unknown[]; _parsers: unknown[]; _prebuiltEmptyResultObject: Record<string, null>; _types: object | undefined };
  _accumulateRows: boolean;
  prepare(connection: PgConnectionInternals): void;
  hasBeenParsed(connection: PgConnectionInternals): boolean;
  handleRowDescription(message: { fields: unknown[] }): void;
  handleError(error: Error, connection: PgConnectionInternals): void;
  _getRows(connection: PgConnectionInternals, rows: number | undefined): void;
}
interface PgConnectionInternals {
  bind(config: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: unknown }): void;
  close(config: { type: 'S'; name: string }): void;
  sync(): void;
}
// node-postgres's own mapping of JavaScript values to parameters, as its Query binds with it.
const pgUtils = createRequire(import.meta.url)('pg/lib/utils') as { prepareValue: unknown };

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

/** What node-postgres builds from a statement's row description: the columns and their parsers. */
interface RowShape {
  readonly fields: unknown[];
  readonly parsers: unknown[];
  readonly emptyRow: Record<string, null>;
}

/**
 * The row shape of each registered text, once PostgreSQL has described it, kept per set of
 * type parsers: a shape's parsers are those of the client that read the description.
 * node-postgres gives each client a set of its own, so a shape is per connection, which costs
 * nothing: a text's first run on a connection parses and describes it anyway.
 */
const shapesByTypes = new WeakMap<object, Map<string, RowShape>>();
const shapesWithDefaultTypes = new Map<string, RowShape>();

function shapesFor(types: object | undefined): Map<string, RowShape> {
  if (!types) return shapesWithDefaultTypes;
  let shapes = shapesByTypes.get(types);
  if (!shapes) shapesByTypes.set(types, (shapes = new Map()));
  return shapes;
}

/**
 * node-postgres's query with one step fewer once its statement's row shape is known. It asks
 * PostgreSQL to describe the result of every execution and rebuilds the columns' parsers from
 * that description each time (for a wide sign-in statement, about as much client work as the
 * rows themselves). A prepared statement's result columns cannot change without PostgreSQL
 * refusing to run it (see isStalePlan; its fresh name is described again), so after the
 * first description the execution is sent as Bind, Execute, Sync, and the rows are read with
 * the shape kept from that description.
 */
class KnownShapeQuery extends (pg.Query as unknown as new (text: string, values: unknown[], callback: (error: Error | null, result: unknown) => void) => PgQueryInternals) {
  constructor(name: string, text: string, values: unknown[], callback: (error: Error | null, result: unknown) => void) {
    // Given as text, not as a config object: node-postgres copies a config object by property
    // descriptors, a slow path (0.8% of the service's CPU in a profile of sign-ins).
    super(text, values, callback);
    this.name = name;
  }

  override prepare(connection: PgConnectionInternals): void {
    const shape = shapesFor(this._result._types).get(this.text);
    if (!shape || !this.hasBeenParsed(connection)) return super.prepare(connection);
    try {
      connection.bind({ portal: this.portal, statement: this.name, values: this.values, binary: this.binary ?? false, valueMapper: pgUtils.prepareValue });
    } catch (error) {
      // As node-postgres's own prepare answers a value it cannot bind.
      connection.close({ type: 'S', name: this.name });
      connection.sync();
      this.handleError(error as Error, connection);
      return;
    }
    this._result.fields = shape.fields;
    this._result._parsers = shape.parsers;
    this._result._prebuiltEmptyResultObject = shape.emptyRow;
    this._accumulateRows = true;
    this._getRows(connection, undefined);
  }

  override handleRowDescription(message: { fields: unknown[] }): void {
    super.handleRowDescription(message);
    if (message.fields.length > 0) shapesFor(this._result._types).set(this.text, { fields: this._result.fields, parsers: this._result._parsers, emptyRow: this._result._prebuiltEmptyResultObject });
  }
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

  async #named(text: string, values: unknown[], query: (...a: unknown[]) => unknown): Promise<unknown> {
    const run = (name: string) => new Promise((resolve, reject) => void query.call(this, new KnownShapeQuery(name, text, values, (error, result) => (error ? reject(error) : resolve(result)))));
    try {
      return await run(this.#nameOf(text));
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      // Statements prepared before the change stay behind until the connection closes (a
      // schema change is rare); later calls prepare afresh. Outside a transaction nothing was
      // done yet, so the call is made again; inside one, the transaction has failed and its
      // caller decides.
      this.#generation++;
      if (this.#inTransaction) throw error;
      return await run(this.#nameOf(text));
    }
  }
}
