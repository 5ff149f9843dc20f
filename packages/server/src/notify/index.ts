import type { TasdiqModule } from '../platform/module.ts';
import { notifyMigrations } from './migrations.ts';

export { enqueueNotification, type NotificationInput } from './outbox.ts';
export type { OutboxMessage, NotificationChannel, NotificationStatus } from './schema.ts';

export const notifyModule: TasdiqModule = {
  name: 'notify',
  migrations: notifyMigrations,
};
