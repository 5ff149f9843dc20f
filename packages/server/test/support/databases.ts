import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type Dialect } from '../../src/platform/db/index.ts';
import { migrateToLatest } from '../../src/platform/db/migrations.ts';
import { allMigrations } from '../../src/modules.ts';

/** The dialects this run tests: SQLite always, PostgreSQL when the global setup found one. */
export function testDialects(): Dialect[] {
  return inject('postgresUrl') ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase extends DatabaseHandle {
  /** Drops everything the test created (the SQLite file or the PostgreSQL schema). */
  dispose(): Promise<void>;
}

/**
 * A fresh, migrated database of the given dialect. On PostgreSQL each call gets its own
 * schema, so test files (and developers running suites side by side) never share rows.
 */
export async function createTestDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let handle: DatabaseHandle;
  let cleanup: () => Promise<void>;
  if (dialect === 'postgres') {
    const url = inject('postgresUrl');
    if (!url) throw new Error('PostgreSQL is not available in this run');
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    handle = openDatabase({ databaseUrl: url, schema, poolSize: 5 });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-test-'));
    handle = openDatabase({ sqlitePath: join(dir, 'test.sqlite') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(handle.db as never, handle.dialect, allMigrations());
    } catch (error) {
      // A failed migration must not leave a schema behind for later runs to trip over.
      await handle.close();
      await cleanup();
      throw error;
    }
  }
  let disposed = false;
  return {
    ...handle,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await handle.close();
      await cleanup();
    },
  };
}

/** Resolves once a PostgreSQL backend of this database waits for a lock in a statement like `pattern`. */
export async function waitForLockWait(database: DatabaseHandle, pattern: string): Promise<void> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like ${pattern}`.execute(database.db);
    if (rows[0]!.n > 0) return;
  }
  throw new Error(`no statement like ${pattern} waited for a lock`);
}
