import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';

/**
 * One metrics registry per service instance (not prom-client's global one), so several
 * instances in one process (tests, benchmarks) never share counters.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tasdiq_' });
  const httpDuration = new Histogram({
    name: 'tasdiq_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}
