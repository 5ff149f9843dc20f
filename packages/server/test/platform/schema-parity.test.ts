import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { allMigrations } from '../../src/modules.ts';

/** Database type names mapped to the portable types of platform/db/columns.ts. */
const CANONICAL: Record<string, string> = {
  text: 'text',
  varchar: 'text',
  bigint: 'bigint',
  int8: 'bigint',
  integer: 'integer',
  int4: 'integer',
  blob: 'bytes',
  bytea: 'bytes',
  boolean: 'boolean',
  bool: 'boolean',
  real: 'real',
  float8: 'real',
  'double precision': 'real',
};

interface ColumnShape {
  type: string;
  nullable: boolean;
}

async function shape(database: TestDatabase): Promise<Record<string, Record<string, ColumnShape>>> {
  const tables = await database.db.introspection.getTables();
  const result: Record<string, Record<string, ColumnShape>> = {};
  for (const table of tables) {
    if (table.name.startsWith('kysely_')) continue;
    if (table.isView) continue;
    result[table.name] = Object.fromEntries(
      table.columns.map((c) => [c.name, { type: CANONICAL[c.dataType.toLowerCase()] ?? `unknown:${c.dataType}`, nullable: c.isNullable }]),
    );
  }
  return result;
}

/** Explicitly created indexes (not those backing primary keys or unique constraints). */
async function indexes(database: TestDatabase): Promise<string[]> {
  if (database.dialect === 'sqlite') {
    const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null`.execute(database.db);
    return rows.rows.map((r) => r.name).sort();
  }
  const rows = await sql<{ name: string }>`
    select i.indexname as name from pg_indexes i
    where i.schemaname = current_schema()
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(database.db);
  return rows.rows.map((r) => r.name).filter((n) => !n.startsWith('kysely_')).sort();
}

describe('schema parity between SQLite and PostgreSQL', () => {
  const postgresAvailable = inject('postgresUrl') !== null;
  let sqlite: TestDatabase;
  let postgres: TestDatabase | undefined;

  beforeAll(async () => {
    sqlite = await createTestDatabase('sqlite');
    if (postgresAvailable) postgres = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await sqlite?.dispose();
    await postgres?.dispose();
  });

  it('applies every migration on SQLite with portable column types only', async () => {
    const tables = await shape(sqlite);
    expect(Object.keys(tables).length).toBeGreaterThan(0);
    for (const [table, columns] of Object.entries(tables)) {
      for (const [column, { type }] of Object.entries(columns)) {
        expect(type, `${table}.${column}`).not.toMatch(/^unknown:/);
      }
    }
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(sqlite.db);
    expect(applied.rows.map((r) => r.name)).toEqual(allMigrations().map((m) => m.name));
  });

  it.skipIf(!postgresAvailable)('gives PostgreSQL the same tables, columns, types, nullability and indexes', async () => {
    expect(await shape(postgres!)).toEqual(await shape(sqlite));
    expect(await indexes(postgres!)).toEqual(await indexes(sqlite));
  });
});
