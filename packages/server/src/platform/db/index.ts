import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteAdapter, SqliteDialect, sql, type DialectAdapter, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database, Dialect } from './types.ts';
import { NamedStatementClient } from './named-statements.ts';
import { NodeSqliteDatabase } from './node-sqlite.ts';

export type { Database, Dialect };
export { isStorableText } from './columns.ts';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Human-readable location without credentials, for logs and start-up output. */
  readonly location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent the embedded SQLite database at `sqlitePath` is used. */
  readonly databaseUrl?: string | undefined;
  readonly sqlitePath?: string;
  /** Data directory for the default SQLite file (`<dataDir>/tasdiq.sqlite`). */
  readonly dataDir?: string;
  /** PostgreSQL schema to use instead of `public` (tests isolate themselves this way). */
  readonly schema?: string;
  readonly poolSize?: number;
  /** Told when PostgreSQL drops an idle pooled connection (restart, failover, admin kill). */
  readonly onIdleConnectionError?: (error: Error) => void;
}

/**
 * SQLite runs DDL inside transactions, but Kysely's SQLite adapter says it cannot, so its
 * migrator would run migrations without one: a migration failing halfway (a data check, a
 * full disk) would leave its first steps applied and could not be run again. Saying so runs
 * them as on PostgreSQL, all or nothing.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Removes the password from a connection string so it can be printed. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

function postgresPool(url: string, schema: string | undefined, max: number): pg.Pool {
  return new pg.Pool({
    Client: NamedStatementClient,
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Times are epoch milliseconds in bigint columns; they fit a JS number exactly, and
    // returning numbers keeps PostgreSQL rows identical to SQLite rows.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID || oid === NUMERIC_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
}

export function openDatabase(options: OpenDatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error('bad schema name');
    const pool = postgresPool(options.databaseUrl, options.schema, options.poolSize ?? 10);
    // Without a listener, an idle connection the server terminates is an unhandled 'error'
    // event that kills the process. The pool already discards that client and the next query
    // opens a fresh one; /readyz reports a database that stays away.
    pool.on('error', (error) => options.onIdleConnectionError?.(error));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      location: redactDatabaseUrl(options.databaseUrl) + (options.schema ? ` (schema ${options.schema})` : ''),
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }
  const path = options.sqlitePath ?? join(options.dataDir ?? './data', 'tasdiq.sqlite');
  if (path !== ':memory:') mkdirSync(join(path, '..'), { recursive: true });
  const sqlite = new NodeSqliteDatabase(path);
  const db = new Kysely<Database>({ dialect: new TransactionalDdlSqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    location: path,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** Whether a handle (or a transaction on it) talks to PostgreSQL, for the few writes that differ. */
export function isPostgres(db: Kysely<Database> | Transaction<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * True when a database error is a unique-constraint violation (both dialects); with `table`,
 * only one on that table (a statement that writes several tables tells which refused it).
 */
export function isUniqueViolation(error: unknown, table?: string): boolean {
  const e = error as { code?: string; table?: string; message?: string } | null;
  if (!e) return false;
  if (e.code === '23505') return table === undefined || e.table === table;
  return typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed') && (table === undefined || e.message.includes(`UNIQUE constraint failed: ${table}.`));
}

/** Socket errors meaning the database server cannot be reached right now. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/**
 * PostgreSQL SQLSTATEs of an unavailable server: class 08 (connection exception), 53300
 * (too many connections), 57P01-57P03 (shutting down, crash recovery, starting up).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53300|57P0[1-3])$/;
/** What `pg` says when a connection dies or never opens. */
const PG_CONNECTION_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection timed out)/i;
/** SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included: the busy timeout ran out. */
const SQLITE_BUSY_CODES = new Set([5, 6]);

/**
 * True when a database error means "not now" rather than "never": the server is down,
 * restarting or out of connections, or SQLite stayed locked past its busy timeout. The HTTP
 * layer answers these with 503 and Retry-After instead of a 500.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' && SQLITE_BUSY_CODES.has(e.errcode & 0xff)) return true;
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * The SQLSTATE when PostgreSQL rolled a transaction back to resolve a conflict with another
 * (40P01: chosen as a deadlock's victim; 40001: a serialization failure): nothing it wrote
 * stays, and the same request may succeed when made again.
 */
export function transactionConflictCode(error: unknown, depth = 0): '40P01' | '40001' | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown };
  if (e.code === '40P01' || e.code === '40001') return e.code;
  return transactionConflictCode(e.cause, depth + 1);
}

/**
 * The system code (ECONNREFUSED, ETIMEDOUT, ...) when an error is a connection that failed at
 * the network level: any client meets these, so they say "unreachable", not which service.
 */
export function unreachableCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return e.code;
  const inner = Array.isArray(e.errors) ? e.errors.map((one) => unreachableCode(one, depth + 1)).find(Boolean) : undefined;
  return inner ?? unreachableCode(e.cause, depth + 1);
}
