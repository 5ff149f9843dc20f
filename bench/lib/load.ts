/**
 * The two phases `bench auth` offers sign-ins in, for Tasdiq and for the floor it is compared
 * with: back to back (saturation, with its CPU read) and then at a fixed rate (latency), each
 * citizen one session at a time.
 */
import { cpuDuring, percentile } from './service.ts';

/** Seconds of traffic at the latency phase's rate before its latencies are recorded. */
const LATENCY_WARMUP_S = Number(process.env.BENCH_LATENCY_WARMUP ?? 2);
/**
 * The latency phase records three times as long as the saturation window unless
 * BENCH_LATENCY_S says: the service's old generation is collected about every 20 s at half
 * its saturation rate, and each collection slows the sessions of about 100 ms. A 10 s window
 * held one such collection or none, so its p99 was that luck; 30 s hold one or two, as often
 * as they come.
 */
const latencySeconds = (durationS: number) => Number(process.env.BENCH_LATENCY_S ?? 3 * durationS);

export interface Citizen {
  busy: boolean;
}

/** A complete session for a citizen, resolving with its milliseconds; `timed` in the latency phase. */
export type Session<C extends Citizen> = (citizen: C, timed: boolean) => Promise<number>;

export interface PhaseOptions {
  /** Names the run in the lines that report failed sessions. */
  readonly label: string;
  readonly warmupS: number;
  readonly durationS: number;
  /** Sessions per second offered in the latency phase (default: half the saturation rate). */
  readonly rate?: number | undefined;
  /** The service whose CPU the saturation phase reads, and its database when PostgreSQL. */
  readonly servicePid: number;
  readonly databaseUrl?: string | undefined;
  readonly pushesReceived: () => number;
  /** Runs between the phases (a scrape of the service that the latency phase is measured from). */
  readonly beforeLatency?: () => Promise<unknown>;
}

export interface Phases {
  /** Session milliseconds of the saturation window, ascending. */
  readonly saturated: number[];
  readonly cost: Awaited<ReturnType<typeof cpuDuring>>;
  readonly pushes: number;
  readonly perS: number;
  readonly cores: number;
  readonly rate: number;
  /** Session milliseconds of the latency phase, ascending. */
  readonly latencies: number[];
  readonly skipped: number;
  readonly failures: number;
}

/** Every citizen signs in again as soon as their last sign-in is over, until `until` (performance.now()). */
function backToBack<C extends Citizen>(citizens: readonly C[], session: Session<C>, until: number, done: (ms: number) => void, failed: (error: unknown) => void): Promise<unknown> {
  return Promise.all(
    citizens.map(async (citizen) => {
      while (performance.now() < until) await session(citizen, false).then(done, failed);
    }),
  );
}

/**
 * Sessions arriving at `rate` per second for `durationMs`, each for a citizen not signing in
 * already (`skipped` counts arrivals that found none free), as real traffic arrives.
 */
async function atFixedRate<C extends Citizen>(citizens: readonly C[], session: Session<C>, rate: number, durationMs: number, failed: (error: unknown) => void, timed = true): Promise<{ latencies: number[]; skipped: number }> {
  const latencies: number[] = [];
  let skipped = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let n = 0; performance.now() - start < durationMs; n++) {
    const wait = start + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const citizen = citizens.find((c) => !c.busy);
    if (!citizen) {
      skipped++;
      continue;
    }
    citizen.busy = true;
    const task: Promise<void> = session(citizen, timed)
      .then((ms) => void latencies.push(ms), failed)
      .finally(() => {
        citizen.busy = false;
        inFlight.delete(task);
      });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return { latencies: latencies.sort((a, b) => a - b), skipped };
}

/**
 * A warm-up, the saturation window (its sessions/s and the CPU it cost) and the latency phase.
 * Failures count from the end of the warm-up; the first three are printed.
 */
export async function saturationThenLatency<C extends Citizen>(citizens: readonly C[], session: Session<C>, options: PhaseOptions): Promise<Phases> {
  let failures = 0;
  let recording = false;
  const failed = (error: unknown) => {
    if (!recording) return;
    if (++failures <= 3) console.error(`# ${options.label} session failed: ${String(error)}`);
  };
  const saturated: number[] = [];
  const drive = (until: number) => backToBack(citizens, session, until, (ms) => void (recording && saturated.push(ms)), failed);
  await drive(performance.now() + options.warmupS * 1000);
  recording = true;
  const pushesBefore = options.pushesReceived();
  const cost = await cpuDuring(options.servicePid, options.databaseUrl, () => drive(performance.now() + options.durationS * 1000));
  const pushes = options.pushesReceived() - pushesBefore;
  saturated.sort((a, b) => a - b);
  const perS = saturated.length / cost.elapsedS;
  const rate = options.rate ?? Math.max(1, Math.round(perS / 2));
  // The latency phase is steady traffic at its rate: it starts with a warm-up at that rate, so
  // that what the saturation left behind (its in-flight sessions, the outbox backlog, a heap to
  // collect) drains before a latency is recorded.
  await atFixedRate(citizens, session, rate, LATENCY_WARMUP_S * 1000, failed, false);
  await options.beforeLatency?.();
  const { latencies, skipped } = await atFixedRate(citizens, session, rate, latencySeconds(options.durationS) * 1000, failed);
  return { saturated, cost, pushes, perS, cores: cost.serviceCpuS / cost.elapsedS, rate, latencies, skipped, failures };
}

/** The figures Tasdiq's line and the floor's share, in the groups each line places where it reads best. */
export function phaseFigures(phases: Phases) {
  const { saturated, cost } = phases;
  return {
    headline: {
      per_s: Math.round(phases.perS),
      per_core_per_s: Math.round(phases.perS / Math.max(phases.cores, 0.01)),
      p50_ms: percentile(phases.latencies, 50),
      p99_ms: percentile(phases.latencies, 99),
      latency_at_per_s: phases.rate,
    },
    counts: { sessions: saturated.length, latency_sessions: phases.latencies.length, pushes: phases.pushes, failures: phases.failures, skipped: phases.skipped },
    cpu: {
      service_cpu_cores: phases.cores,
      // This process's own CPU per session (the relying party and the phones: signing, HTTP),
      // which shares the machine with the service and the database.
      loadgen_cpu_ms_per_session: (cost.loadgenCpuS * 1000) / saturated.length,
      // PostgreSQL's own CPU per session (its backends for this database, when on this machine).
      ...(cost.dbCpuS !== undefined ? { db_cpu_ms_per_session: (cost.dbCpuS * 1000) / saturated.length } : {}),
    },
  };
}
