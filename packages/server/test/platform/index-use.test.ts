import 'reflect-metadata';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { authModule } from '../../src/auth/index.ts';
import { NamedStatementClient } from '../../src/platform/db/named-statements.ts';
import { NodeSqliteDatabase } from '../../src/platform/db/node-sqlite.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createNotifyRuntime } from '../../src/notify/runtime.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';
import { notifyConfig } from '../notify/helpers.ts';

/**
 * The tables every sign-in writes and the sweeps read each second: a statement that reaches
 * their rows without an index, or finds a row by filtering an index scan instead of by its
 * key, costs in proportion to the table (or to the sessions in flight). On a small test table
 * both look cheap, which is why the plans are checked and not the timings.
 */
const HOT_TABLES = ['auth_sessions', 'notify_outbox'];
const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'Yagona interaktiv davlat xizmatlari portali' };

/** Every SQL text the service runs while `run` runs, on either database. */
async function statementsOf(run: () => Promise<void>): Promise<Set<string>> {
  const texts = new Set<string>();
  const pgQuery = NamedStatementClient.prototype.query;
  const sqlitePrepare = NodeSqliteDatabase.prototype.prepare;
  NamedStatementClient.prototype.query = function (this: NamedStatementClient, ...args: unknown[]) {
    if (typeof args[0] === 'string') texts.add(args[0]);
    return (pgQuery as (...a: unknown[]) => never).apply(this, args);
  } as typeof pgQuery;
  NodeSqliteDatabase.prototype.prepare = function (this: NodeSqliteDatabase, text: string) {
    texts.add(text);
    return sqlitePrepare.call(this, text);
  };
  try {
    await run();
  } finally {
    NamedStatementClient.prototype.query = pgQuery;
    NodeSqliteDatabase.prototype.prepare = sqlitePrepare;
  }
  return new Set([...texts].filter((t) => /^\s*(select|insert|update|delete|with)\b/i.test(t) && HOT_TABLES.some((table) => t.includes(`"${table}"`) || t.includes(` ${table} `))));
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/** What is wrong with one PostgreSQL plan node (and its children) on a hot table. */
function planFaults(node: PlanNode, faults: string[] = []): string[] {
  const table = node['Relation Name'];
  if (table && HOT_TABLES.includes(table)) {
    if (node['Node Type'] === 'Seq Scan') faults.push(`scans all of ${table}`);
    // A row looked up by id, found by filtering whatever an index scan walked.
    if (/\bid = \$\d+/.test(node.Filter ?? '') && !/\bid = /.test(node['Index Cond'] ?? '')) faults.push(`finds a ${table} row by id through ${node['Index Name']} (${node['Index Cond']})`);
  }
  for (const child of node.Plans ?? []) planFaults(child, faults);
  return faults;
}

describe.each(testDialects())('index use of the sign-in path and the sweeps on %s', (dialect) => {
  let app: ListeningApp;
  let statements: Set<string>;

  beforeAll(async () => {
    app = await listeningApp(dialect);
    const rp = new SessionClient(app.url);
    const auth = authModule.service(app.context);
    const logger = createLogger('silent');
    const notify = createNotifyRuntime({ db: app.context.db, dialect, logger, config: notifyConfig({}) });
    statements = await statementsOf(async () => {
      // Each step more than five times: PostgreSQL plans a prepared statement generically
      // from its sixth run on, so both kinds of plan are among what runs.
      for (let i = 0; i < 6; i++) {
        const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
        const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
        const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl, reason: 'Kirish' });
        const request = (await device.pending())!;
        await device.confirm(request, started.verificationCode!);
        await rp.result(started);
        const refused = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
        await device.refuse((await device.pending())!);
        await rp.result(refused);
        const sms = await rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp', origin: 'my.gov.uz' });
        // A guess (right or wrong, it is counted and judged the same way).
        await fetch(`${app.url}/api/v1/auth/sessions/${sms.sessionId}/otp`, { method: 'POST', headers: { authorization: `Bearer ${sms.sessionToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: '000000' }) });
        await auth.expireDue();
        await auth.failUndelivered();
        await auth.purgeCompleted();
        await notify.worker.runOnce();
        await notify.worker.purge();
      }
    });
  }, 120_000);
  afterAll(async () => app?.close());

  it('ran the statements of starts, fetches, confirmations, refusals, SMS codes and sweeps', () => {
    const all = [...statements].join('\n');
    for (const sign of ['insert into "auth_sessions"', 'update "auth_sessions"', 'update "notify_outbox"', '"expires_at" <=', '"fallback_due_at" <=', '"next_attempt_at" <=', "'sms_otp'"]) expect(all).toContain(sign);
  });

  it('reach the rows of the hot tables through an index, and a row by id through its key', async () => {
    expect(dialect === 'postgres' ? await postgresFaults(app, statements) : await sqliteFaults(app, statements)).toEqual([]);
  });
});

/** Faults of PostgreSQL's generic plans, the ones the service runs on after a statement's fifth call. */
async function postgresFaults(app: ListeningApp, statements: Set<string>): Promise<string[]> {
  return app.context.db.connection().execute(async (connection) => {
    const found: string[] = [];
    // With sequential scans priced out, one shows up only where no index can serve.
    await sql`set plan_cache_mode = force_generic_plan`.execute(connection);
    await sql`set enable_seqscan = off`.execute(connection);
    try {
      for (const text of statements) {
        const parameters = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
        await sql.raw(`prepare index_use_probe as ${text}`).execute(connection);
        try {
          const args = parameters > 0 ? `(${Array(parameters).fill('null').join(', ')})` : '';
          const { rows } = await sql.raw<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (format json) execute index_use_probe${args}`).execute(connection);
          for (const fault of planFaults(rows[0]!['QUERY PLAN'][0]!.Plan)) found.push(`${fault}\n  in: ${text.slice(0, 300)}`);
        } finally {
          await sql`deallocate index_use_probe`.execute(connection);
        }
      }
    } finally {
      await sql`reset plan_cache_mode`.execute(connection);
      await sql`reset enable_seqscan`.execute(connection);
    }
    return found;
  });
}

/**
 * Faults of SQLite's plans: a scan of a hot table, or of one of its full indexes. A partial
 * index may be walked whole (the pending sessions, say): it holds only the rows in flight.
 */
async function sqliteFaults(app: ListeningApp, statements: Set<string>): Promise<string[]> {
  const partial = new Set<string>();
  for (const table of HOT_TABLES) {
    const { rows } = await sql.raw<{ name: string; partial: number }>(`select name, partial from pragma_index_list('${table}')`).execute(app.context.db);
    for (const row of rows) if (row.partial) partial.add(row.name);
  }
  const found: string[] = [];
  for (const text of statements) {
    const { rows } = await sql.raw<{ detail: string }>(`explain query plan ${text}`).execute(app.context.db);
    for (const { detail } of rows) {
      const scan = new RegExp(`^SCAN (${HOT_TABLES.join('|')})\\b(?: USING (?:COVERING )?INDEX (\\w+))?`).exec(detail);
      if (scan && !(scan[2] && partial.has(scan[2]))) found.push(`${detail}\n  in: ${text.slice(0, 300)}`);
    }
  }
  return found;
}
