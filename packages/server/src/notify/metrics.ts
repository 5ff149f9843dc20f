import { createServer, type Server } from 'node:http';
import { Counter, type Registry } from 'prom-client';

export interface NotifyMetrics {
  readonly outcomes: Counter<'channel' | 'outcome'>;
  /** `how`: `claimed` by the worker's statement, or `handed_over` by its writer in the same process. */
  readonly taken: Counter<'how'>;
}

/**
 * Delivery outcomes per channel (sent, delivered, retry, failed, lease_expired) for alerting,
 * and how workers took their messages.
 */
export function notifyMetrics(registry: Registry): NotifyMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  return {
    outcomes: counter('tasdiq_notify_outcomes_total', 'Notification delivery outcomes by channel', ['channel', 'outcome'] as const),
    taken: counter('tasdiq_notify_taken_total', 'Messages workers took for delivery: claimed, or handed over by their writer in the same process', ['how'] as const),
  };
}

/**
 * A bare `GET /metrics` (Prometheus text format) for a process that has no HTTP service of
 * its own: `tasdiq worker` with TASDIQ_WORKER_METRICS_PORT. Everything else answers 404.
 */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
