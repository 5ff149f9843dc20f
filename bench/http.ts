/**
 * HTTP platform throughput: `/healthz` (no storage) and a DB-backed read (the office finder)
 * on SQLite and PostgreSQL, measured by autocannon over loopback against the service in its
 * own process. A bare Fastify server in the same run is the peer: the gap is the platform's
 * cost (request ids, metrics, rate limiting, i18n, validation).
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { formatLine, postgresAnswers, processCpuSeconds, scratchPostgres, startBenchService } from './lib/service.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

async function load(url: string): Promise<{ per_s: number; p50_ms: number; p99_ms: number; errors: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1 });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  return { per_s: Math.round(result.requests.average), p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: non2xx };
}

async function measureService(db: 'sqlite' | 'postgres', databaseUrl?: string): Promise<void> {
  const service = await startBenchService(databaseUrl ? { databaseUrl } : {});
  try {
    for (const [target, path] of [
      ['healthz', '/healthz'],
      ['offices_read', '/api/v1/offices?region=UZ-SU&limit=10'],
    ] as const) {
      await autocannon({ url: service.baseUrl + path, connections: 4, amount: 500 }); // warm-up
      const cpuBefore = await processCpuSeconds(service.child.pid!);
      const figures = await load(service.baseUrl + path);
      const cpu = (await processCpuSeconds(service.child.pid!)) - cpuBefore;
      console.log(formatLine('http', { target, ...figures, service_cpu_cores: cpu / DURATION, db }));
    }
  } finally {
    await service.stop();
  }
}

async function measureBareFastify(): Promise<void> {
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await autocannon({ url: `${url}/healthz`, connections: 4, amount: 500 });
    // Same process as the load generator, so this peer shares a core with autocannon: its
    // figure is a lower bound of bare Fastify, not a ceiling.
    console.log(formatLine('http', { target: 'baseline_bare_fastify_healthz', ...(await load(`${url}/healthz`)), db: 'none' }));
  } finally {
    await app.close();
  }
}

export default async function run(): Promise<void> {
  await measureService('sqlite');
  if (await postgresAnswers()) {
    const scratch = await scratchPostgres('tasdiq_bench_http');
    try {
      await measureService('postgres', scratch.url);
    } finally {
      await scratch.drop();
    }
  } else {
    console.log('# http: PostgreSQL not reachable; skipped db=postgres');
  }
  await measureBareFastify();
}
