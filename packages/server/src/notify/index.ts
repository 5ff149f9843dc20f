import type { TasdiqModule } from '../platform/module.ts';
import { notifyMigrations } from './migrations.ts';
import { notifyRoutes } from './routes.ts';
import { loadNotifyConfig } from './config.ts';
import { createNotifyRuntime } from './runtime.ts';

export {
  enqueueNotification,
  getNotificationStatus,
  getNotificationsByCorrelation,
  markDelivered,
  waitForNotification,
  type NotificationInput,
  type NotificationFallback,
} from './outbox.ts';
export {
  registerPushTarget,
  removePushTargets,
  removePushTargetsOfDevice,
  listPushTargets,
  DEFAULT_WEBPUSH_HOSTS,
  MAX_PUSH_TARGETS_PER_KIND,
  type PushTargetInput,
  type WebPushSubscription,
  type WebPushPolicy,
} from './push-targets.ts';
export { devicePushConfig, webPushPolicy, type DevicePushConfig } from './push-config.ts';
export { smsSegments, splitSms, type SmsSegmentInfo } from './sms-segments.ts';
export { renderText, NOTIFICATION_KINDS, type NotificationKind } from './templates.ts';
export { loadNotifyConfig, type NotifyConfig } from './config.ts';
export { createNotifyRuntime, type NotifyRuntime } from './runtime.ts';
export { OutboxWorker } from './worker.ts';
export { NotifyErrors } from './errors.ts';
export type { OutboxMessage, NotificationChannel, NotificationStatus, PushTargetKind } from './schema.ts';

export const notifyModule: TasdiqModule = {
  name: 'notify',
  migrations: notifyMigrations,
  routes: notifyRoutes,
  links: () => [],
  async startBackground(context) {
    const config = loadNotifyConfig(context.config);
    if (!config.worker.enabled) {
      context.logger.info('outbox worker disabled here (TASDIQ_OUTBOX_WORKER=0); run `tasdiq worker`');
      return { stop: async () => {} };
    }
    const runtime = createNotifyRuntime({
      db: context.db,
      dialect: context.dialect,
      logger: context.logger,
      config,
      now: context.now,
      registry: context.metrics.registry,
    });
    runtime.start();
    if (config.sms === 'none') context.logger.warn('no SMS transport configured (TASDIQ_SMPP_ROUTES or TASDIQ_SMS_HTTP_URL): SMS messages will fail');
    context.logger.info({ sms: config.sms, worker: runtime.worker.id }, 'outbox worker started');
    return { stop: () => runtime.stop() };
  },
};
