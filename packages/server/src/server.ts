import { createServer } from 'node:net';
import { withBoundPort, type Config } from './platform/config.ts';
import { buildApp, type App } from './app.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import type { TasdiqModule } from './platform/module.ts';

export interface RunningService {
  readonly app: App;
  /** The configuration in force: with PORT=0, the port the system chose (and a PUBLIC_URL to match). */
  readonly config: Config;
  readonly url: string;
  /** Graceful stop: stop accepting, finish in-flight requests, then close storage. */
  shutdown(reason: string): Promise<void>;
}

export interface StartOptions {
  readonly demo?: boolean;
  /** Install SIGTERM/SIGINT handlers (the CLI does; embedders may not want them). */
  readonly signals?: boolean;
  /** The modules to run; every module by default. */
  readonly modules?: readonly TasdiqModule[];
  readonly logger?: Logger;
}

/** The service could not listen where it was told to. */
export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(message: string, options: { cause: unknown; code: string | undefined }) {
    super(message, { cause: options.cause });
    this.name = 'ListenError';
    this.code = options.code;
  }
}

function listenError(error: unknown, host: string, port: number): ListenError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = `${host}:${port} (HOST=${host}, PORT=${port})`;
  const reason =
    code === 'EADDRINUSE'
      ? 'the port is already in use; stop what holds it or set PORT to a free port'
      : code === 'EADDRNOTAVAIL'
        ? 'HOST is not an address of this machine; set HOST to one of its addresses, 127.0.0.1, or 0.0.0.0 for every interface'
        : code === 'EACCES'
          ? 'permission denied; ports below 1024 need privileges, set PORT to 1024 or above'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'HOST does not resolve to an address; set HOST to an IP address or a known host name'
            : (error as Error)?.message ?? String(error);
  return new ListenError(`cannot listen on ${where}: ${reason}${code ? ` [${code}]` : ''}`, { cause: error, code });
}

/** Asks the system for a free port on `host` (what PORT=0 means), so the public URL can name it. */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port: 0, exclusive: true }, resolve);
    });
    const address = probe.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port assigned');
    return address.port;
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

/**
 * Starts the HTTP service and installs SIGTERM/SIGINT handlers for a graceful stop. If the
 * service cannot listen, everything already started (database, background workers, timers)
 * is stopped before the error is rethrown, so the process can exit.
 */
export async function startService(given: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(given.logLevel);
  for (const warning of given.warnings) logger.warn(warning);

  let config = given;
  if (given.port === 0 && given.publicUrlDerived) {
    // The issuer, links and QR codes carry PUBLIC_URL, fixed when the modules are built: find
    // the port first. Explicit PUBLIC_URLs (behind a proxy) are used as given.
    try {
      config = withBoundPort(given, await freePort(given.host));
    } catch (error) {
      throw listenError(error, given.host, given.port);
    }
  }

  const app = await buildApp({ config, logger, demo: options.demo ?? false, ...(options.modules ? { modules: options.modules } : {}) });
  let address: string;
  try {
    address = await app.http.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close().catch((closeError: unknown) => logger.error({ err: closeError }, 'closing after a failed listen failed'));
    throw listenError(error, config.host, config.port);
  }
  const url = address.replace('://0.0.0.0', '://localhost').replace('://[::]', '://localhost');

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ reason }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        logger.error({ graceSeconds: config.shutdownGraceSeconds }, 'in-flight requests did not finish within TASDIQ_SHUTDOWN_GRACE_SECONDS; exiting');
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
  return { app, config, url, shutdown };
}
