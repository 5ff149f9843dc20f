import { createServer, type Server } from 'node:http';
import { Counter, type Registry } from 'prom-client';

export interface NotifyMetrics {
  readonly outcomes: Counter<'channel' | 'outcome'>;
}

/** Delivery outcomes per channel (sent, delivered, retry, failed, lease_expired) for alerting. */
export function notifyMetrics(registry: Registry): NotifyMetrics {
  const name = 'tasdiq_notify_outcomes_total';
  const existing = registry.getSingleMetric(name) as Counter<'channel' | 'outcome'> | undefined;
  return {
    outcomes:
      existing ??
      new Counter({ name, help: 'Notification delivery outcomes by channel', labelNames: ['channel', 'outcome'] as const, registers: [registry] }),
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
