import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

const BIN = resolve(import.meta.dirname, '../../packages/cli/bin/tasdiq.js');
export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function postgresAnswers(timeoutMs = 500): Promise<boolean> {
  const url = new URL(POSTGRES_URL);
  return new Promise((done) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 5432) });
    socket.setTimeout(timeoutMs, () => (socket.destroy(), done(false)));
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/** A scratch PostgreSQL database for one benchmark run, dropped afterwards. */
export async function scratchPostgres(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface BenchService {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `tasdiq serve --demo` in its own process (so it has its own core, as in production)
 * with rate limits lifted for loopback load, and waits until it answers.
 */
export async function startBenchService(options: { databaseUrl?: string; env?: Record<string, string> } = {}): Promise<BenchService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-bench-'));
  // BENCH_PROFILE=<dir>: the service writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // BENCH_SERVICE_FLAGS="--trace-gc ...": more V8 flags for the service; BENCH_SERVICE_LOG=<file>
  // keeps what it prints there (to line its collections up with slow sessions, say).
  const flags = process.env.BENCH_SERVICE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...flags, BIN, 'serve', '--demo', '--port', '0'], {
    env: {
      ...process.env,
      TASDIQ_DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl ?? '',
      LOG_LEVEL: 'warn',
      TASDIQ_RATE_LIMIT_PER_MINUTE: '10000000',
      // Benchmarks register Web Push subscriptions at a loopback sink (bench/auth.ts).
      TASDIQ_WEBPUSH_HOSTS: '127.0.0.1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (process.env.BENCH_SERVICE_LOG) {
    const log = createWriteStream(process.env.BENCH_SERVICE_LOG);
    // Both streams into one file: neither may end it while the other still writes.
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('close', () => log.end());
  }
  const [, baseUrl] = await announced(child, /Liveness\s+(\S+)\/healthz/, 'service', 60_000);
  return {
    baseUrl: baseUrl!,
    child,
    async stop() {
      await terminated(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until a child process prints a line matching `pattern` (its address) and returns the
 * match; fails with everything it printed if it exits first or takes longer than `timeoutMs`.
 */
export async function announced(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray> {
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(output);
    if (match) return match;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends SIGTERM and resolves once the child has exited. */
export async function terminated(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds a process has used so far, from /proc (Linux). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/**
 * CPU seconds used so far by each PostgreSQL backend serving `url`'s database, by process id,
 * when the server runs on this machine (its processes are in /proc); undefined otherwise.
 */
export async function postgresBackendCpu(url: string): Promise<Map<number, number> | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    const seconds = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        seconds.set(pid, await processCpuSeconds(pid));
      } catch {
        return undefined;
      }
    }
    return seconds;
  } finally {
    await client.end();
  }
}

/** The CPU seconds backends used between two readings (one that started in between counts whole). */
export function backendCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, total] of after) seconds += total - (before.get(pid) ?? 0);
  return seconds;
}

export function formatLine(name: string, figures: Record<string, string | number>): string {
  return `bench ${name} ${Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`)
    .join(' ')}`;
}

/** The p-th percentile (0-100) of ascending `sorted` values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * One scrape of the service: its own time per route so far (its request-duration histogram:
 * seconds and count), and its event loop's delay (p99 and max, ms) since the previous scrape,
 * as prom-client restarts the loop-delay histogram at every scrape.
 */
export async function serverSample(baseUrl: string): Promise<{ routes: Map<string, { sum: number; count: number }>; loopDelayP99Ms: number; loopDelayMaxMs: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const seconds = (name: string) => Number(new RegExp(`^tasdiq_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { routes: routeTimesIn(text), loopDelayP99Ms: seconds('p99') * 1000, loopDelayMaxMs: seconds('max') * 1000 };
}

function routeTimesIn(text: string): Map<string, { sum: number; count: number }> {
  const times = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^tasdiq_http_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    const labels = m[2]!;
    const route = `${/method="([^"]+)"/.exec(labels)?.[1]} ${/route="([^"]+)"/.exec(labels)?.[1]}`;
    const entry = times.get(route) ?? { sum: 0, count: 0 };
    entry[m[1] as 'sum' | 'count'] += Number(m[3]);
    times.set(route, entry);
  }
  return times;
}

/**
 * Runs `work` and reads what it cost: its wall time, the CPU of the service process `pid`, of
 * this process (the load generator) and, when `databaseUrl` is a PostgreSQL on this machine, of
 * that database's backends.
 */
export async function cpuDuring(pid: number, databaseUrl: string | undefined, work: () => Promise<unknown>): Promise<{ elapsedS: number; serviceCpuS: number; loadgenCpuS: number; dbCpuS?: number }> {
  const dbBefore = databaseUrl ? await postgresBackendCpu(databaseUrl) : undefined;
  const serviceBefore = await processCpuSeconds(pid);
  const loadBefore = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const elapsedS = (performance.now() - t0) / 1000;
  const serviceCpuS = (await processCpuSeconds(pid)) - serviceBefore;
  const load = process.cpuUsage(loadBefore);
  const dbAfter = dbBefore && (await postgresBackendCpu(databaseUrl!));
  return { elapsedS, serviceCpuS, loadgenCpuS: (load.user + load.system) / 1e6, ...(dbBefore && dbAfter ? { dbCpuS: backendCpuBetween(dbBefore, dbAfter) } : {}) };
}
