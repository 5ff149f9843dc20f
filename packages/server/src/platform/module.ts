import type { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { DatabaseHandle, Db, Dialect } from './db/index.ts';
import type { ModuleMigration } from './db/migrations.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** What every module is given: configuration, storage and observability. */
export interface AppContext {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly db: Db;
  readonly dialect: Dialect;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Wall clock in epoch milliseconds; tests replace it to move time. */
  readonly now: () => number;
  /**
   * Aborted when the service starts to close, before it waits for in-flight requests: a
   * long poll or stream listens to it and answers at once instead of holding shutdown up.
   */
  readonly closing: AbortSignal;
  /** The shared Redis (rate limits), when the service is configured with one: readiness checks it. */
  readonly redis?: Redis;
}

/** A background task a module runs beside the HTTP server (outbox workers, cleaners). */
export interface BackgroundTask {
  stop(): Promise<void>;
}

/**
 * A capability of the service (identity, enrollment, notify, ...). Modules own their
 * routes, storage and schemas; the app composes them in the order listed in `modules.ts`.
 */
export interface TasdiqModule {
  readonly name: string;
  readonly migrations?: readonly ModuleMigration[];
  routes?(app: FastifyInstance, context: AppContext): Promise<void>;
  /** Idempotent: run on every `serve --demo`; must not duplicate rows. */
  seedDemo?(context: AppContext): Promise<void>;
  startBackground?(context: AppContext): Promise<BackgroundTask>;
  /** Pages a newcomer should open, printed when the service starts. */
  links?(baseUrl: string): ReadonlyArray<{ readonly label: string; readonly url: string }>;
}
