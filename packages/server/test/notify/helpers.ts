import type { NotifyConfig, WorkerSettings } from '../../src/notify/config.ts';
import type { SmppRouteConfig } from '../../src/notify/channels/smpp-connection.ts';

export const FAST_WORKER: WorkerSettings = {
  enabled: true,
  batchSize: 20,
  leaseMs: 5_000,
  pollMs: 20,
  baseBackoffMs: 20,
  maxBackoffMs: 100,
  retentionMs: 30 * 86_400_000,
};

export function notifyConfig(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return {
    sms: 'dev',
    smppRoutes: [],
    httpSms: undefined,
    vapid: undefined,
    fcm: undefined,
    apns: undefined,
    // Tests list their loopback receivers, as a deployment lists its push services.
    webPush: { hosts: ['127.0.0.1'], allowLoopback: false },
    worker: FAST_WORKER,
    development: true,
    ...overrides,
  };
}

export function smppRoute(name: string, port: number, prefixes: string[], overrides: Partial<SmppRouteConfig> = {}): SmppRouteConfig {
  return {
    name,
    host: '127.0.0.1',
    port,
    systemId: 'tasdiq',
    password: 'secret',
    systemType: '',
    mode: 'transceiver',
    prefixes,
    windowSize: 10,
    ratePerSecond: 1000,
    sourceAddr: 'Tasdiq',
    enquireLinkMs: 30_000,
    responseTimeoutMs: 2_000,
    ...overrides,
  };
}

/** Polls until `check` returns a truthy value or the time is up. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
