import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration';
import type { Dialect } from './types.ts';
import { columnTypes, type ColumnTypes } from './columns.ts';
import { PortableSchemaPlugin } from './portable-schema-plugin.ts';

/** What a migration gets besides the connection: the dialect and portable column types. */
export interface MigrationContext {
  readonly dialect: Dialect;
  readonly types: ColumnTypes;
}

/**
 * A module's migration. Names start with a UTC timestamp (`202611250700_offices`) so that
 * migrations of all modules sort into one global order.
 */
export interface ModuleMigration {
  readonly name: string;
  up(db: Kysely<unknown>, context: MigrationContext): Promise<void>;
  down?(db: Kysely<unknown>, context: MigrationContext): Promise<void>;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/**
 * Kysely looks for its bookkeeping tables in every schema it can see; with several schemas in
 * one PostgreSQL database (tests, or tenants) it would find another schema's tables and skip
 * creating its own. Pinning the migrator to the connection's current schema keeps each
 * schema's migrations its own.
 */
async function migrationSchema(db: Kysely<unknown>, dialect: Dialect): Promise<string | undefined> {
  if (dialect !== 'postgres') return undefined;
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = result.rows[0]?.schema;
  if (!schema) throw new MigrationError('PostgreSQL has no current schema: check search_path');
  return schema;
}

export async function createMigrator(db: Kysely<unknown>, dialect: Dialect, migrations: readonly ModuleMigration[]): Promise<Migrator> {
  const context: MigrationContext = { dialect, types: columnTypes(dialect) };
  const portable = new PortableSchemaPlugin();
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (!/^\d{12}_[a-z0-9_]+$/.test(migration.name)) throw new MigrationError(`bad migration name ${migration.name}`);
    if (seen.has(migration.name)) throw new MigrationError(`duplicate migration ${migration.name}`);
    seen.add(migration.name);
  }
  const schema = await migrationSchema(db, dialect);
  return new Migrator({
    db,
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          migrations.map((m): [string, Migration] => [
            m.name,
            {
              up: (conn) => m.up(conn.withPlugin(portable), context),
              ...(m.down ? { down: (conn: Kysely<unknown>) => m.down!(conn.withPlugin(portable), context) } : {}),
            },
          ]),
        ),
    },
  });
}

/**
 * Applies every pending migration, all in one transaction on both databases (a failure leaves
 * none of them applied); throws on the first failure.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  migrations: readonly ModuleMigration[],
): Promise<string[]> {
  const result: MigrationResultSet = await (await createMigrator(db, dialect, migrations)).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationError(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
