import { Registry, collectDefaultMetrics } from 'prom-client';
import { RouteLatency } from './route-latency.ts';

/**
 * One metrics registry per service instance (not prom-client's global one), so several
 * instances in one process (tests, benchmarks) never share counters.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: RouteLatency;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tasdiq_' });
  const httpDuration = new RouteLatency({
    name: 'tasdiq_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}
