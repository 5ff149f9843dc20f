/**
 * Notification delivery: messages go through the outbox, an in-process worker and SMPP to a
 * loopback SMSC (the `smpp` package's server) that answers with delivery receipts; a message
 * counts when its receipt turned it `delivered` in the database.
 * - per_s: a backlog of N messages drained to `delivered`, per second.
 * - p99_ms / p50_ms: enqueue-to-receipt latency at an offered load of half that rate.
 * The SMSC runs in the same process as the worker, so both share a core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../packages/server/src/platform/db/index.ts';
import { migrateToLatest } from '../packages/server/src/platform/db/migrations.ts';
import { allMigrations } from '../packages/server/src/modules.ts';
import { createLogger } from '../packages/server/src/platform/logger.ts';
import { enqueueNotification } from '../packages/server/src/notify/outbox.ts';
import { createNotifyRuntime } from '../packages/server/src/notify/runtime.ts';
import type { NotifyConfig } from '../packages/server/src/notify/config.ts';
import { TestSmsc } from '../packages/server/test/notify/smsc.ts';
import { formatLine, percentile, postgresAnswers, scratchPostgres } from './lib/service.ts';

const N = Math.min(Number(process.env.BENCH_NOTIFY_N ?? 2000), 20_000);
const POLL_MS = 20;


async function measure(handle: DatabaseHandle, db: string): Promise<void> {
  await migrateToLatest(handle.db as never, handle.dialect, allMigrations());
  const smsc = await TestSmsc.start({ receipt: 'DELIVRD' });
  const enqueuedAt = new Map<string, number>();
  const latencies: number[] = [];
  let delivered = 0;
  let onDelivered: (() => void) | undefined;
  const config: NotifyConfig = {
    sms: 'smpp',
    smppRoutes: [
      {
        name: 'bench',
        host: '127.0.0.1',
        port: smsc.port,
        systemId: 'tasdiq',
        password: 'secret',
        systemType: '',
        mode: 'transceiver',
        prefixes: ['+998'],
        windowSize: 50,
        ratePerSecond: 100_000,
        sourceAddr: 'Tasdiq',
        enquireLinkMs: 30_000,
        responseTimeoutMs: 10_000,
      },
    ],
    httpSms: undefined,
    vapid: undefined,
    fcm: undefined,
    apns: undefined,
    webPush: { hosts: ['127.0.0.1'], allowLoopback: false },
    development: false,
    worker: { enabled: true, batchSize: 100, leaseMs: 30_000, pollMs: POLL_MS, baseBackoffMs: 1000, maxBackoffMs: 30_000, retentionMs: 86_400_000 },
  };
  const runtime = createNotifyRuntime({
    db: handle.db,
    dialect: handle.dialect,
    logger: createLogger('warn'),
    config,
    onSettled: (id, status) => {
      if (status !== 'delivered') return;
      delivered += 1;
      const at = enqueuedAt.get(id);
      if (at !== undefined) latencies.push(performance.now() - at);
      onDelivered?.();
    },
  });
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      if (delivered >= count) return resolve();
      onDelivered = () => delivered >= count && resolve();
    });
  const enqueue = async (i: number) => {
    const { id } = await handle.db.transaction().execute((tx) =>
      enqueueNotification(tx, {
        kind: 'auth.sms_otp',
        channel: 'sms',
        recipient: `+99890${String(1_000_000 + (i % 9_000_000)).padStart(7, '0')}`,
        locale: 'en',
        params: { code: String(100000 + (i % 900000)), service: 'my.gov.uz', origin: 'my.gov.uz' },
      }),
    );
    return id;
  };
  try {
    // Throughput: drain a backlog.
    for (let i = 0; i < N; i++) await enqueue(i);
    const started = performance.now();
    runtime.start();
    await until(N);
    const perS = N / ((performance.now() - started) / 1000);

    // Latency: a steady offered load at half the drain rate.
    const offered = Math.max(10, Math.floor(perS / 2));
    const count = Math.min(N, offered * 5);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / offered;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const before = performance.now();
      const id = await enqueue(N + i);
      enqueuedAt.set(id, before);
    }
    await until(N + count);
    const sorted = latencies.sort((a, b) => a - b);
    console.log(
      formatLine('notify', {
        per_s: Math.round(perS),
        p99_ms: percentile(sorted, 99),
        p50_ms: percentile(sorted, 50),
        n: N,
        latency_n: sorted.length,
        offered_per_s: offered,
        smsc_submits: smsc.submits.length,
        poll_ms: POLL_MS,
        db,
      }),
    );
  } finally {
    await runtime.stop();
    await smsc.close();
  }
}

export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tasdiq-bench-notify-'));
  const sqlite = openDatabase({ sqlitePath: join(dir, 'tasdiq.sqlite') });
  try {
    await measure(sqlite, 'sqlite');
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (await postgresAnswers()) {
    const scratch = await scratchPostgres('tasdiq_bench_notify');
    const pgHandle = openDatabase({ databaseUrl: scratch.url });
    try {
      await measure(pgHandle, 'postgres');
    } finally {
      await pgHandle.close();
      // pg's pool resolves end() before its sockets have closed; dropping the database
      // under them would surface as an unhandled connection error.
      await new Promise((r) => setTimeout(r, 300));
      await scratch.drop();
    }
  } else {
    console.log('# notify: PostgreSQL not reachable; skipped db=postgres');
  }
}
