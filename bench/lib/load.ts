/**
 * The two ways `bench auth` offers sign-ins, for Tasdiq and for the floor it is compared with:
 * back to back (saturation) and at a fixed rate (latency), each citizen one session at a time.
 */
export interface Citizen {
  busy: boolean;
}

/** A complete session for a citizen, resolving with its milliseconds. */
export type Session<C extends Citizen> = (citizen: C, timed: boolean) => Promise<number>;

/** Every citizen signs in again as soon as their last sign-in is over, until `until` (performance.now()). */
export function backToBack<C extends Citizen>(citizens: readonly C[], session: Session<C>, until: number, done: (ms: number) => void, failed: (error: unknown) => void): Promise<unknown> {
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
export async function atFixedRate<C extends Citizen>(citizens: readonly C[], session: Session<C>, rate: number, durationMs: number, failed: (error: unknown) => void): Promise<{ latencies: number[]; skipped: number }> {
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
    const task: Promise<void> = session(citizen, true)
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
