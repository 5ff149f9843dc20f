import type { Registry } from 'prom-client';

/** One route's answers with one method and status: counts per bucket (not yet cumulative). */
interface Series {
  readonly labels: Readonly<{ method: string; route: string; status_code: string }>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A sample as prom-client's registry reads them from a metric's `get()`. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/**
 * HTTP request latency by method, route template and status, exposed as a Prometheus
 * histogram in the service's registry. Every request observes it, so it is counted here in
 * three map lookups and a bucket search, rather than through prom-client's Histogram, which
 * checks and hashes its labels on each observation (a tenth of the HTTP layer's own CPU on a
 * sign-in, measured). The labels are few and fixed (the route templates), so the series are too.
 */
export class RouteLatency {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: readonly Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    // The registry takes any object that names itself and answers get(), as prom-client's own metrics do.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#series.get(route);
    if (!byMethod) this.#series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = { labels: { method, route, status_code: String(status) }, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 }));
    let bucket = 0;
    while (bucket < this.#bounds.length && seconds > this.#bounds[bucket]!) bucket++;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The histogram as prom-client's registry writes it: cumulative `_bucket`s, `_sum`, `_count`. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    for (const byMethod of this.#series.values()) {
      for (const byStatus of byMethod.values()) {
        for (const series of byStatus.values()) {
          let cumulative = 0;
          this.#bounds.forEach((bound, i) => {
            cumulative += series.counts[i]!;
            values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...series.labels }, value: cumulative });
          });
          values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...series.labels }, value: series.count });
          values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
          values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}
