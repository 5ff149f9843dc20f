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
  default: string | null;
}

interface IndexShape {
  columns: string[];
  unique: boolean;
  where: string | null;
}

/** Everything about a table that must mean the same on both databases. */
interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: string[];
  /** Unique constraints (SQLite's autoindexes, PostgreSQL's `_key` constraints): column lists. */
  unique: string[];
  /** Explicitly created indexes, by name. */
  indexes: Record<string, IndexShape>;
  /** `cols -> table(cols) on update X on delete Y`. */
  foreignKeys: string[];
  /** Normalised check expressions. */
  checks: string[];
}

type Schema = Record<string, TableShape>;

/**
 * Makes SQLite's and PostgreSQL's renderings of one SQL expression comparable: PostgreSQL
 * writes `x = ANY (ARRAY['a'::text, 'b'::text])` for `x in ('a', 'b')`, adds casts and
 * parentheses, and upper-cases keywords. String literals keep their case.
 */
function normaliseExpression(expression: string): string {
  let s = expression.trim();
  s = s.replace(/^check\s*/i, '');
  s = s.replace(/::[a-z_]+(\s+(precision|varying))?(\[\])?/gi, '');
  s = s.replace(/(\w+)\s*=\s*any\s*\(\s*array\s*\[([^\]]*)\]\s*\)/gi, '$1 in ($2)');
  let out = '';
  let inString = false;
  for (const ch of s) {
    if (ch === "'") inString = !inString;
    if (inString || ch === "'") out += ch;
    // SQLite keeps an index's WHERE as written, identifiers quoted; PostgreSQL unquotes them.
    else if (ch !== '(' && ch !== ')' && ch !== '"' && !/\s/.test(ch)) out += ch.toLowerCase();
  }
  return out;
}

function normaliseDefault(value: string | null): string | null {
  if (value === null) return null;
  return normaliseExpression(value);
}

/** The bodies of `check (...)` clauses in a SQLite CREATE TABLE statement. */
function sqliteChecks(createTable: string): string[] {
  const checks: string[] = [];
  const lower = createTable.toLowerCase();
  let inString = false;
  for (let i = 0; i < createTable.length; i++) {
    const ch = createTable[i];
    if (ch === "'") inString = !inString;
    if (inString) continue;
    if (lower.startsWith('check', i) && !/\w/.test(lower[i - 1] ?? ' ') && !/\w/.test(lower[i + 5] ?? ' ')) {
      let j = i + 5;
      while (/\s/.test(createTable[j] ?? '')) j++;
      if (createTable[j] !== '(') continue;
      let depth = 0;
      let quoted = false;
      const start = j;
      for (; j < createTable.length; j++) {
        const c = createTable[j];
        if (c === "'") quoted = !quoted;
        if (quoted) continue;
        if (c === '(') depth++;
        if (c === ')' && --depth === 0) break;
      }
      checks.push(createTable.slice(start + 1, j));
      i = j;
    }
  }
  return checks;
}

async function sqliteSchema(database: TestDatabase): Promise<Schema> {
  const db = database.db;
  const tables = await sql<{ name: string; sql: string }>`
    select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(db);
  const schema: Schema = {};
  for (const table of tables.rows) {
    const columns = await sql<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>`
      select name, type, "notnull", dflt_value, pk from pragma_table_info(${table.name})`.execute(db);
    const indexList = await sql<{ name: string; unique: number; origin: string; partial: number }>`
      select name, "unique", origin, partial from pragma_index_list(${table.name})`.execute(db);
    const shape: TableShape = {
      columns: Object.fromEntries(
        columns.rows.map((c) => [
          c.name,
          { type: CANONICAL[c.type.toLowerCase()] ?? `unknown:${c.type}`, nullable: c.notnull === 0 && c.pk === 0, default: normaliseDefault(c.dflt_value) },
        ]),
      ),
      primaryKey: columns.rows.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      unique: [],
      indexes: {},
      foreignKeys: [],
      checks: sqliteChecks(table.sql).map(normaliseExpression).sort(),
    };
    for (const index of indexList.rows) {
      const info = await sql<{ seqno: number; name: string | null; desc: number; key: number }>`
        select seqno, name, "desc", "key" from pragma_index_xinfo(${index.name})`.execute(db);
      const cols = info.rows
        .filter((r) => r.key === 1)
        .sort((a, b) => a.seqno - b.seqno)
        .map((r) => `${r.name ?? '<expression>'}${r.desc ? ' desc' : ''}`);
      if (index.origin === 'pk') continue;
      if (index.origin === 'u') {
        shape.unique.push(cols.join(','));
        continue;
      }
      const definition = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and name = ${index.name}`.execute(db);
      const where = index.partial ? /\swhere\s([\s\S]*)$/i.exec(definition.rows[0]?.sql ?? '')?.[1] ?? '<unparsed>' : null;
      shape.indexes[index.name] = { columns: cols, unique: index.unique === 1, where: where === null ? null : normaliseExpression(where) };
    }
    shape.unique.sort();
    const fks = await sql<{ id: number; seq: number; table: string; from: string; to: string | null; on_update: string; on_delete: string }>`
      select id, seq, "table", "from", "to", on_update, on_delete from pragma_foreign_key_list(${table.name})`.execute(db);
    const byId = new Map<number, typeof fks.rows>();
    for (const fk of fks.rows) byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk]);
    for (const parts of byId.values()) {
      parts.sort((a, b) => a.seq - b.seq);
      const first = parts[0]!;
      let to = parts.map((p) => p.to);
      if (to.some((t) => t === null)) {
        // `references t` without columns means t's primary key.
        const pk = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${first.table}) where pk > 0 order by pk`.execute(db);
        to = pk.rows.map((r) => r.name);
      }
      shape.foreignKeys.push(
        `${parts.map((p) => p.from).join(',')} -> ${first.table}(${to.join(',')}) on update ${first.on_update.toLowerCase()} on delete ${first.on_delete.toLowerCase()}`,
      );
    }
    shape.foreignKeys.sort();
    schema[table.name] = shape;
  }
  return schema;
}

const PG_FK_ACTION: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

async function postgresSchema(database: TestDatabase): Promise<Schema> {
  const db = database.db;
  const columns = await sql<{ table: string; name: string; type: string; nullable: string; default: string | null }>`
    select table_name as "table", column_name as name, data_type as type, is_nullable as nullable, column_default as "default"
    from information_schema.columns
    where table_schema = current_schema() and table_name not like 'kysely_%'
    order by table_name, ordinal_position`.execute(db);
  const schema: Schema = {};
  for (const c of columns.rows) {
    const shape = (schema[c.table] ??= { columns: {}, primaryKey: [], unique: [], indexes: {}, foreignKeys: [], checks: [] });
    shape.columns[c.name] = { type: CANONICAL[c.type.toLowerCase()] ?? `unknown:${c.type}`, nullable: c.nullable === 'YES', default: normaliseDefault(c.default) };
  }
  const constraints = await sql<{
    table: string;
    type: string;
    definition: string;
    cols: string[];
    ref_table: string | null;
    ref_cols: string[] | null;
    on_update: string;
    on_delete: string;
  }>`
    select cl.relname as "table", c.contype as type, pg_get_constraintdef(c.oid) as definition,
      array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
            join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i)::text[] as cols,
      fcl.relname as ref_table,
      array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
            join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)::text[] as ref_cols,
      c.confupdtype as on_update, c.confdeltype as on_delete
    from pg_constraint c
    join pg_class cl on cl.oid = c.conrelid
    join pg_namespace n on n.oid = cl.relnamespace
    left join pg_class fcl on fcl.oid = c.confrelid
    where n.nspname = current_schema() and cl.relname not like 'kysely_%'
    order by cl.relname, c.conname`.execute(db);
  for (const c of constraints.rows) {
    const shape = schema[c.table];
    if (!shape) continue;
    if (c.type === 'p') shape.primaryKey = c.cols;
    else if (c.type === 'u') shape.unique.push(c.cols.join(','));
    else if (c.type === 'c') shape.checks.push(normaliseExpression(c.definition));
    else if (c.type === 'f') {
      shape.foreignKeys.push(
        `${c.cols.join(',')} -> ${c.ref_table}(${(c.ref_cols ?? []).join(',')}) on update ${PG_FK_ACTION[c.on_update]} on delete ${PG_FK_ACTION[c.on_delete]}`,
      );
    }
  }
  const indexes = await sql<{ table: string; name: string; unique: boolean; where: string | null; cols: string[] }>`
    select t.relname as "table", i.relname as name, x.indisunique as "unique", pg_get_expr(x.indpred, x.indrelid) as "where",
      array(select pg_get_indexdef(x.indexrelid, k, true) || case when (x.indoption[k - 1] & 1) = 1 then ' desc' else '' end
            from generate_series(1, x.indnkeyatts) k order by k)::text[] as cols
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = current_schema() and t.relname not like 'kysely_%'
      and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid and c.contype in ('p', 'u', 'x'))`.execute(db);
  for (const index of indexes.rows) {
    const shape = schema[index.table];
    if (!shape) continue;
    shape.indexes[index.name] = { columns: index.cols, unique: index.unique, where: index.where === null ? null : normaliseExpression(index.where) };
  }
  for (const shape of Object.values(schema)) {
    shape.unique.sort();
    shape.foreignKeys.sort();
    shape.checks.sort();
  }
  return schema;
}

const describeSchema = (database: TestDatabase) => (database.dialect === 'sqlite' ? sqliteSchema(database) : postgresSchema(database));

describe('schema parity: expression normalisation', () => {
  it('reads PostgreSQL and SQLite renderings of one check as the same', () => {
    expect(normaliseExpression("CHECK ((kind = ANY (ARRAY['id_card'::text, 'passport'::text])))")).toBe(normaliseExpression("kind in ('id_card', 'passport')"));
    expect(normaliseExpression("CHECK (((mode IS NULL) OR (mode = ANY (ARRAY['poll'::text, 'ping'::text]))))")).toBe(
      normaliseExpression("mode is null or mode in ('poll', 'ping')"),
    );
    expect(normaliseExpression("'verification_code_choice'::text")).toBe("'verification_code_choice'");
    // Values keep their case and spaces; a different value is a different expression.
    expect(normaliseExpression("sex in ('M', 'F')")).not.toBe(normaliseExpression("sex in ('m', 'f')"));
    expect(normaliseExpression("kind in ('a b')")).not.toBe(normaliseExpression("kind in ('ab')"));
  });

  it('finds every check clause of a SQLite table, parentheses and quotes included', () => {
    const ddl = `create table "t" ("a" text check (a in ('x)', 'y')), "b" integer, constraint "t_b_check" check ((b > 0) and (b < 10)), "checked" integer)`;
    expect(sqliteChecks(ddl)).toEqual(["a in ('x)', 'y')", '(b > 0) and (b < 10)']);
  });
});

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
    const tables = await describeSchema(sqlite);
    expect(Object.keys(tables).length).toBeGreaterThan(0);
    for (const [table, { columns }] of Object.entries(tables)) {
      for (const [column, { type }] of Object.entries(columns)) {
        expect(type, `${table}.${column}`).not.toMatch(/^unknown:/);
      }
    }
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(sqlite.db);
    expect(applied.rows.map((r) => r.name)).toEqual(allMigrations().map((m) => m.name));
  });

  it('sees what it compares: keys, uniques, indexes, foreign keys, defaults and checks', async () => {
    // The comparison below is only as good as what the introspection finds; these are known
    // features of the schema, so an introspection that silently returns nothing fails here.
    const databases = [sqlite, ...(postgres ? [postgres] : [])];
    for (const database of databases) {
      const schema = await describeSchema(database);
      expect(schema.offices?.primaryKey, database.dialect).toEqual(['id']);
      expect(schema.offices?.columns.active?.default, database.dialect).toBe('1');
      expect(schema.offices?.checks, database.dialect).toEqual([normaliseExpression("kind in ('public_services_center', 'notary')")]);
      expect(schema.offices?.indexes.offices_region_kind_idx, database.dialect).toEqual({ columns: ['region', 'kind', 'id'], unique: false, where: null });
      expect(schema.citizens?.unique, database.dialect).toContain('pinfl');
      expect(schema.identity_documents?.indexes.identity_documents_number_idx?.unique, database.dialect).toBe(true);
      expect(schema.operators?.foreignKeys, database.dialect).toContain('office_id -> offices(id) on update no action on delete no action');
      expect(schema.oidc_durable?.primaryKey, database.dialect).toEqual(['model', 'id']);
    }
  });

  it('tells apart schemas that differ in one index, default, check or foreign key', async () => {
    const changed = await createTestDatabase('sqlite');
    try {
      const before = await describeSchema(changed);
      expect(before).toEqual(await describeSchema(sqlite));
      await sql`create unique index offices_name_idx on offices (name_en) where active = 1`.execute(changed.db);
      const after = await describeSchema(changed);
      expect(after.offices?.indexes.offices_name_idx).toEqual({ columns: ['name_en'], unique: true, where: 'active=1' });
      expect(after).not.toEqual(before);
    } finally {
      await changed.dispose();
    }
    if (!postgres) return;
    const base = await describeSchema(postgres);
    const altered = await createTestDatabase('postgres');
    try {
      for (const change of [
        sql`alter table offices alter column active set default 0`,
        sql`alter table offices drop constraint offices_kind_check`,
        sql`alter table operators drop constraint operators_office_id_fkey`,
        sql`alter table citizens drop constraint citizens_pinfl_key`,
      ]) {
        await change.execute(altered.db);
        expect(await describeSchema(altered)).not.toEqual(base);
      }
      const shape = await describeSchema(altered);
      expect(shape.offices?.columns.active?.default).toBe('0');
      expect(shape.offices?.checks).toEqual([]);
      expect(shape.operators?.foreignKeys).toEqual([]);
      expect(shape.citizens?.unique).not.toContain('pinfl');
    } finally {
      await altered.dispose();
    }
  });

  it.skipIf(!postgresAvailable)('gives PostgreSQL the same tables, columns, keys, constraints and indexes', async () => {
    const [lite, pg] = [await describeSchema(sqlite), await describeSchema(postgres!)];
    expect(Object.keys(pg).sort()).toEqual(Object.keys(lite).sort());
    for (const table of Object.keys(lite)) expect(pg[table], table).toEqual(lite[table]);
  });
});
