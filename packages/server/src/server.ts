import type { Config } from './platform/config.ts';
import { buildApp, type App } from './app.ts';
import { createLogger } from './platform/logger.ts';

export interface RunningService {
  readonly app: App;
  readonly url: string;
  /** Graceful stop: stop accepting, finish in-flight requests, then close storage. */
  shutdown(reason: string): Promise<void>;
}

/** Starts the HTTP service and installs SIGTERM/SIGINT handlers for a graceful stop. */
export async function startService(config: Config, options: { demo?: boolean; signals?: boolean } = {}): Promise<RunningService> {
  const logger = createLogger(config.logLevel);
  const app = await buildApp({ config, logger, demo: options.demo ?? false });
  const address = await app.http.listen({ host: config.host, port: config.port });
  const url = address.replace('://0.0.0.0', '://localhost').replace('://[::]', '://localhost');

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ reason }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        logger.error('in-flight requests did not finish in time; exiting');
        process.exit(1);
      }, config.shutdownGraceSeconds * 1000);
      force.unref();
      await app.close();
      clearTimeout(force);
      logger.info('stopped');
    })());

  if (options.signals ?? true) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        shutdown(signal).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { app, url, shutdown };
}
