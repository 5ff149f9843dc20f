import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { testDialects } from '../support/databases.ts';
import { openDatabase, type DatabaseHandle } from '../../src/platform/db/index.ts';
import { migrateToLatest } from '../../src/platform/db/migrations.ts';
import { allMigrations } from '../../src/modules.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { TestSmsc } from './smsc.ts';
import { smppRoute, waitFor } from './helpers.ts';

const BIN = resolve(import.meta.dirname, '../../../cli/bin/tasdiq.js');
const MESSAGES = 240;
const BATCH = 20;

interface Target {
  readonly handle: DatabaseHandle;
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

/** A database the child worker process can open by itself: a SQLite file or a PostgreSQL schema. */
async function target(dialect: 'sqlite' | 'postgres'): Promise<Target> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-crash-'));
    const handle = openDatabase({ sqlitePath: join(dir, 'tasdiq.sqlite') });
    await migrateToLatest(handle.db as never, 'sqlite', allMigrations());
    return { handle, env: { TASDIQ_DATA_DIR: dir, DATABASE_URL: '' }, dispose: async () => (await handle.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const url = inject('postgresUrl')!;
  const schema = `t_crash_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const handle = openDatabase({ databaseUrl: url, schema, poolSize: 3 });
  const dispose = async () => {
    await handle.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  };
  try {
    await migrateToLatest(handle.db as never, 'postgres', allMigrations());
  } catch (error) {
    await dispose();
    throw error;
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { handle, env: { DATABASE_URL: u.toString(), TASDIQ_DATA_DIR: mkdtempSync(join(tmpdir(), 'tasdiq-crash-')) }, dispose };
}

function startWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const child = spawn(process.execPath, [BIN, 'worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('delivering')) resolveReady();
    });
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}):\n${output}`)));
  });
  return { child, ready, output: () => output };
}

describe.each(testDialects())('a worker killed with SIGKILL mid-batch on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('loses no message, and sends twice only what was in flight at the kill', { timeout: 90_000 }, async () => {
    const db = await target(dialect);
    cleanups.push(() => db.dispose());
    // Slow answers keep a batch in flight most of the time, so the kill lands mid-batch.
    const smsc = await TestSmsc.start({ receipt: 'DELIVRD', respondDelayMs: 15 });
    cleanups.push(() => smsc.close());
    const codes = new Map<string, string>();
    for (let i = 0; i < MESSAGES; i++) {
      const code = String(100000 + i);
      const { id } = await enqueueNotification(db.handle.db, {
        kind: 'auth.sms_otp',
        channel: 'sms',
        recipient: '+998901234567',
        locale: 'en',
        params: { code, service: 'my.gov.uz', origin: 'my.gov.uz' },
      });
      codes.set(code, id);
    }
    const env = {
      ...db.env,
      LOG_LEVEL: 'warn',
      TASDIQ_DEVELOPMENT: '0',
      TASDIQ_SMPP_ROUTES: JSON.stringify([smppRoute('beeline', smsc.port, ['+99890'], { windowSize: 5 })]),
      TASDIQ_OUTBOX_BATCH: String(BATCH),
      TASDIQ_OUTBOX_LEASE_MS: '1500',
      TASDIQ_OUTBOX_POLL_MS: '20',
    };
    const first = startWorker(env);
    cleanups.push(async () => void first.child.kill('SIGKILL'));
    await first.ready;
    await waitFor(() => smsc.submits.length >= MESSAGES / 3, 30_000, 'a third of the messages at the SMSC');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    // Submits that reached the SMSC before the kill are still being answered (into a dead
    // socket) for one response delay; they count as accepted.
    await new Promise((r) => setTimeout(r, 100));
    const inFlight = await db.handle.db.selectFrom('notify_outbox').select('id').where('status', '=', 'sending').execute();
    const inFlightIds = new Set(inFlight.map((r) => r.id));
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.length).toBeLessThanOrEqual(BATCH);
    const acceptedAtKill = smsc.submits.length;
    const acceptedIds = new Set(smsc.submits.map((x) => codes.get(/#(\d{6})$/.exec(x.text)![1]!)!));
    expect(acceptedAtKill).toBeLessThan(MESSAGES);

    const second = startWorker(env);
    cleanups.push(async () => {
      if (second.child.exitCode === null) {
        second.child.kill('SIGTERM');
        await new Promise((r) => second.child.once('exit', r));
      }
    });
    await second.ready;
    const rows = await waitFor(async () => {
      const all = await db.handle.db.selectFrom('notify_outbox').select(['id', 'status']).execute();
      return all.every((r) => r.status === 'delivered' || r.status === 'failed') ? all : undefined;
    }, 60_000, 'every message final');

    expect(rows).toHaveLength(MESSAGES);
    expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
    const seen = new Map<string, number>();
    for (const s of smsc.submits) {
      const code = /#(\d{6})$/.exec(s.text)![1]!;
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // Nothing lost: every message reached the SMSC.
    expect([...codes.keys()].filter((c) => !seen.has(c))).toEqual([]);
    // Duplicates only among the messages in flight at the kill, so at most one batch.
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([code]) => codes.get(code)!);
    // ...and only those the SMSC had accepted before the kill but the worker had not recorded.
    expect(duplicated.every((id) => inFlightIds.has(id) && acceptedIds.has(id))).toBe(true);
    expect([...seen.values()].every((n) => n <= 2)).toBe(true);
    expect(duplicated.length).toBeLessThanOrEqual(inFlight.length);
    const expired = await db.handle.db.selectFrom('notify_attempts').select('message_id').where('outcome', '=', 'lease_expired').execute();
    expect(new Set(expired.map((r) => r.message_id))).toEqual(inFlightIds);
    console.log(`[crash ${dialect}] in flight at kill: ${inFlight.length}, accepted by SMSC at kill: ${acceptedAtKill}, duplicates: ${duplicated.length}`);
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.each(testDialects())('two `tasdiq worker` processes at once on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('deliver every message exactly once between them, each serving its own metrics', { timeout: 90_000 }, async () => {
    const db = await target(dialect);
    cleanups.push(() => db.dispose());
    const smsc = await TestSmsc.start({ receipt: 'DELIVRD', respondDelayMs: 5 });
    cleanups.push(() => smsc.close());
    const total = 150;
    for (let i = 0; i < total; i++) {
      await enqueueNotification(db.handle.db, {
        kind: 'auth.sms_otp',
        channel: 'sms',
        recipient: '+998901234567',
        locale: 'en',
        params: { code: String(200000 + i), service: 'my.gov.uz', origin: 'my.gov.uz' },
      });
    }
    const env = {
      ...db.env,
      LOG_LEVEL: 'warn',
      TASDIQ_DEVELOPMENT: '0',
      TASDIQ_SMPP_ROUTES: JSON.stringify([smppRoute('beeline', smsc.port, ['+99890'], { windowSize: 5 })]),
      TASDIQ_OUTBOX_BATCH: '10',
      TASDIQ_OUTBOX_LEASE_MS: '3000',
      TASDIQ_OUTBOX_POLL_MS: '20',
    };
    const ports = [await freePort(), await freePort()];
    const workers = ports.map((port) => startWorker({ ...env, TASDIQ_WORKER_METRICS_PORT: String(port) }));
    for (const w of workers) {
      cleanups.push(async () => {
        if (w.child.exitCode === null) {
          w.child.kill('SIGTERM');
          await new Promise((r) => w.child.once('exit', r));
        }
      });
    }
    await Promise.all(workers.map((w) => w.ready));
    await waitFor(async () => {
      const all = await db.handle.db.selectFrom('notify_outbox').select('status').execute();
      return all.every((r) => r.status === 'delivered');
    }, 60_000, 'every message delivered');
    const codes = smsc.submits.map((x) => /#(\d{6})$/.exec(x.text)![1]!);
    expect(codes).toHaveLength(total);
    expect(new Set(codes).size).toBe(total);
    const attempts = await db.handle.db.selectFrom('notify_attempts').select(['worker_id', 'outcome']).execute();
    expect(attempts.every((a) => a.outcome === 'sent')).toBe(true);
    const perWorker = Map.groupBy(attempts, (a) => a.worker_id);
    // PostgreSQL: both claim with SKIP LOCKED. SQLite: one holds the outbox lease at a time.
    if (dialect === 'postgres') expect(perWorker.size).toBe(2);
    else expect(perWorker.size).toBe(1);
    // Each process's /metrics counts what it sent.
    const sentByMetrics = await Promise.all(
      ports.map(async (port) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toContain('tasdiq_process_cpu_seconds_total');
        return Number(/tasdiq_notify_outcomes_total\{channel="sms",outcome="sent"\} (\d+)/.exec(text)?.[1] ?? 0);
      }),
    );
    expect(sentByMetrics.reduce((a, b) => a + b, 0)).toBe(total);
    expect((await fetch(`http://127.0.0.1:${ports[0]}/other`)).status).toBe(404);
  });
});

