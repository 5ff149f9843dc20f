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
