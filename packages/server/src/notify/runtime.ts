import type { Db, Dialect } from '../platform/db/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { Channel, SmsTransport } from './channels/channel.ts';
import { HttpSmsGateway } from './channels/http-sms.ts';
import { SmppRouter } from './channels/smpp-router.ts';
import { DevInboxChannel, SmsChannel } from './channels/sms.ts';
import { PushChannel, type PushProvider } from './channels/push.ts';
import { WebPushProvider } from './channels/web-push.ts';
import { FcmProvider } from './channels/fcm.ts';
import { ApnsProvider } from './channels/apns.ts';
import type { NotifyConfig } from './config.ts';
import { OutboxWorker, type OutboxWorkerOptions } from './worker.ts';
import type { Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { notifyMetrics, serveMetrics } from './metrics.ts';
import type { NotificationChannel, PushTargetKind } from './schema.ts';

export interface NotifyRuntime {
  readonly worker: OutboxWorker;
  /** Present when SMS goes over SMPP; exposes the connections (bound state, reconnects). */
  readonly smpp: SmppRouter | undefined;
  start(): void;
  stop(): Promise<void>;
  /** Resolves once the metrics port (if asked for) listens; rejects if it cannot. */
  readonly metricsReady: Promise<void>;
}

/** Wires channels from configuration to one outbox worker; used by `serve`, `tasdiq worker` and the benchmark. */
export function createNotifyRuntime(options: {
  db: Db;
  dialect: Dialect;
  logger: Logger;
  config: NotifyConfig;
  now?: () => number;
  workerId?: string;
  onSettled?: OutboxWorkerOptions['onSettled'];
  registry?: Registry;
  /**
   * `tasdiq worker`: serve this runtime's metrics on `config.worker.metricsPort` (a process
   * with no HTTP service of its own). `serve` leaves it off: its /metrics already has them.
   */
  serveMetrics?: boolean;
}): NotifyRuntime {
  const logger = options.logger.child({ module: 'notify' });
  const now = options.now ?? Date.now;
  const { config } = options;
  const metricsPort = options.serveMetrics ? config.worker.metricsPort : undefined;
  let registry = options.registry;
  if (metricsPort !== undefined && !registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'tasdiq_' });
  }
  // The router reports receipts to the worker, which is built after it.
  const late: { worker?: OutboxWorker } = {};
  let smpp: SmppRouter | undefined;
  let transport: SmsTransport | undefined;
  if (config.sms === 'smpp') {
    smpp = new SmppRouter(config.smppRoutes, {
      logger,
      onReceipt: async (ref, stat) => {
        try {
          await late.worker?.handleReceipt(ref, stat);
        } catch (error) {
          logger.error({ err: error }, 'recording a delivery receipt failed; the SMSC will redeliver it');
          throw error;
        }
      },
    });
    transport = smpp;
  } else if (config.sms === 'http' && config.httpSms) {
    transport = new HttpSmsGateway(config.httpSms);
  }
  const dev = config.development ? new DevInboxChannel(options.db, logger, now) : undefined;
  const providers: Partial<Record<PushTargetKind, PushProvider>> = {};
  if (config.vapid) providers.webpush = new WebPushProvider(config.vapid, { policy: config.webPush });
  if (config.fcm) providers.fcm = new FcmProvider(config.fcm);
  if (config.apns) providers.apns = new ApnsProvider(config.apns);
  const channels: Partial<Record<NotificationChannel, Channel>> = {
    ...(transport ? { sms: new SmsChannel(transport) } : config.sms === 'dev' && dev ? { sms: dev } : {}),
    ...(dev ? { dev } : {}),
    push: new PushChannel(options.db, providers, logger),
  };
  const w = new OutboxWorker({
    db: options.db,
    dialect: options.dialect,
    logger,
    settings: config.worker,
    channels,
    now,
    ...(options.workerId ? { workerId: options.workerId } : {}),
    ...(options.onSettled ? { onSettled: options.onSettled } : {}),
    ...(registry ? { metrics: notifyMetrics(registry) } : {}),
  });
  late.worker = w;
  let server: Server | undefined;
  let metricsReady: Promise<void> = Promise.resolve();
  return {
    worker: w,
    smpp,
    get metricsReady() {
      return metricsReady;
    },
    start() {
      smpp?.start();
      w.start();
      if (metricsPort !== undefined && registry && !server) {
        const host = config.worker.metricsHost ?? '127.0.0.1';
        metricsReady = serveMetrics(registry, host, metricsPort).then((s) => {
          server = s;
          logger.info({ host, port: metricsPort }, 'worker metrics at /metrics');
        });
      }
    },
    async stop() {
      await metricsReady.catch(() => undefined);
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
      await w.stop();
      await Promise.all(Object.values(channels).map((c) => c.close?.()));
    },
  };
}
