/**
 * Complete Mobile-ID sign-ins per second: a relying party starts a session, the simulated
 * phone fetches the pending request (a signed device request), confirms with the code and
 * its signature over the challenge, and the relying party reads the result. Four HTTP
 * requests and three ECDSA P-256 signatures (two request signatures, one challenge) per
 * session; the service runs in its own process and its CPU time is read from /proc, so
 * `per_core_per_s` is sessions per second per core the service used.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, SessionClient } from '../packages/client/src/index.ts';
import { openDatabase } from '../packages/server/src/platform/db/index.ts';
import { enrollCitizen } from '../packages/server/test/devices/enroll.ts';
import { formatLine, postgresAnswers, processCpuSeconds, scratchPostgres, startBenchService } from './lib/service.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
/** Citizens signing in at the same time, each with their own phone. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** BENCH_AUTH_PUSH=none leaves devices without a push target (the push fails over to SMS). */
const PUSH = process.env.BENCH_AUTH_PUSH !== 'none';
const SERVICE = { serviceId: 'bench.example.uz', serviceName: 'Bench portal' };

/**
 * A push service on loopback: each device registers a Web Push subscription pointing here, so
 * the service's outbox delivers real (encrypted, VAPID-signed) pushes, as it would to a
 * browser vendor, instead of failing over to SMS.
 */
async function pushSink(): Promise<{ server: Server; url: string; received: () => number }> {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}`, received: () => received };
}

function webPushSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(db: 'sqlite' | 'postgres', databaseUrl?: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-bench-auth-'));
  const service = await startBenchService({ ...(databaseUrl ? { databaseUrl } : {}), env: { TASDIQ_DATA_DIR: dataDir } });
  const database = openDatabase({ databaseUrl, dataDir });
  const sink = await pushSink();
  try {
    const baseUrl = service.baseUrl;
    const phones: Array<{ pinfl: string; device: DeviceClient }> = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const citizen = await enrollCitizen(database.db, baseUrl);
      const device = await DeviceClient.activate(baseUrl, await citizen.activationCode());
      if (PUSH) await device.request('PUT', '/api/v1/device/push-target', { kind: 'webpush', subscription: webPushSubscription(`${sink.url}/${device.deviceId}`) });
      phones.push({ pinfl: citizen.pinfl, device });
    }
    const rp = new SessionClient(baseUrl);
    const latencies: number[] = [];
    let failures = 0;
    let recording = false;

    const session = async (phone: { pinfl: string; device: DeviceClient }) => {
      const t0 = performance.now();
      const started = await rp.start({ ...SERVICE, pinfl: phone.pinfl });
      const request = await phone.device.pending();
      if (!request) throw new Error('no pending request');
      await phone.device.confirm(request, started.verificationCode!);
      const result = await rp.result(started, 5000);
      if (result.result !== 'OK') throw new Error(`result ${result.result}`);
      if (recording) latencies.push(performance.now() - t0);
    };
    const drive = async (until: number) =>
      Promise.all(
        phones.map(async (phone) => {
          while (performance.now() < until) {
            await session(phone).catch((error: unknown) => {
              if (recording) failures++;
              if (failures <= 3 && recording) console.error(`# auth bench session failed: ${String(error)}`);
            });
          }
        }),
      );

    await drive(performance.now() + WARMUP_S * 1000);
    recording = true;
    const pushesBefore = sink.received();
    const cpuBefore = await processCpuSeconds(service.child.pid!);
    const t0 = performance.now();
    await drive(t0 + DURATION_S * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = (await processCpuSeconds(service.child.pid!)) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const perS = latencies.length / elapsed;
    const cores = cpu / elapsed;
    console.log(
      formatLine('auth', {
        per_s: Math.round(perS),
        per_core_per_s: Math.round(perS / Math.max(cores, 0.01)),
        p50_ms: percentile(latencies, 50),
        p99_ms: percentile(latencies, 99),
        sessions: latencies.length,
        pushes: sink.received() - pushesBefore,
        failures,
        concurrency: CONCURRENCY,
        push: PUSH ? 'webpush' : 'none',
        service_cpu_cores: cores,
        db,
      }),
    );
  } finally {
    sink.server.close();
    await database.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<void> {
  await measure('sqlite');
  if (await postgresAnswers()) {
    const scratch = await scratchPostgres('tasdiq_bench_auth');
    try {
      await measure('postgres', scratch.url);
    } finally {
      await scratch.drop();
    }
  } else {
    console.log('# auth: PostgreSQL not reachable; skipped db=postgres');
  }
}
