import { parseArgs } from 'node:util';
import { loadConfig, openDatabase, migrateToLatest, allMigrations, createLogger, createNotifyRuntime, loadNotifyConfig } from '@tasdiq/server';
import type { Command } from './commands.ts';

/**
 * Delivers the notification outbox in its own process, for deployments that scale delivery
 * apart from the HTTP service (then run `serve` with TASDIQ_OUTBOX_WORKER=0). Several may
 * run against PostgreSQL; on SQLite one at a time delivers and the others wait for its lease.
 */
export const workerCommand: Command = {
  name: 'worker',
  summary: 'Deliver queued notifications (SMS, push) from the outbox',
  usage: 'tasdiq worker [--no-migrate] [--config FILE]',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { 'no-migrate': { type: 'boolean', default: false }, config: { type: 'string' } },
      strict: true,
    });
    const config = loadConfig(process.env, {}, values.config);
    // Validate notify settings before touching the database, so a typo fails fast.
    const notify = loadNotifyConfig(config);
    const logger = createLogger(config.logLevel);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    if (!values['no-migrate']) await migrateToLatest(database.db as never, database.dialect, allMigrations());
    const runtime = createNotifyRuntime({ db: database.db, dialect: database.dialect, logger, config: { ...notify, worker: { ...notify.worker, enabled: true } }, serveMetrics: true });
    runtime.start();
    await runtime.metricsReady;
    console.log(`tasdiq worker ${runtime.worker.id} delivering (sms: ${notify.sms}, database: ${database.location})`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
    });
    logger.info('stopping: finishing the batch in hand');
    await runtime.stop();
    await database.close();
    return 0;
  },
};
