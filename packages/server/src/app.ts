import type { FastifyInstance } from 'fastify';
import type { Config } from './platform/config.ts';
import { openDatabase, type DatabaseHandle } from './platform/db/index.ts';
import { migrateToLatest } from './platform/db/migrations.ts';
import { createHttpServer } from './platform/http.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { openRedis } from './platform/redis.ts';
import { createMetrics } from './platform/metrics.ts';
import type { AppContext, BackgroundTask, TasdiqModule } from './platform/module.ts';
import { MODULES, allMigrations } from './modules.ts';

export interface App {
  readonly http: FastifyInstance;
  readonly context: AppContext;
  /** Stops background tasks, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export interface BuildAppOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** An already-open database (tests share one per suite); opened from config otherwise. */
  readonly database?: DatabaseHandle;
  readonly modules?: readonly TasdiqModule[];
  readonly migrate?: boolean;
  readonly demo?: boolean;
  readonly background?: boolean;
  readonly now?: () => number;
  readonly trustProxy?: boolean;
  readonly rateLimitNamespace?: string;
}

export async function buildApp(options: BuildAppOptions): Promise<App> {
  const { config } = options;
  const modules = options.modules ?? MODULES;
  const logger = options.logger ?? createLogger(config.logLevel);
  const ownsDatabase = !options.database;
  const database =
    options.database ??
    openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      onIdleConnectionError: (error) => logger.warn({ err: { message: error.message } }, 'PostgreSQL closed an idle connection'),
    });
  const tasks: BackgroundTask[] = [];
  const closing = new AbortController();
  let http: FastifyInstance | undefined;
  // Shared rate limits: a command while Redis is away fails at once (no offline queue), and the
  // request is answered 503 (platform/http) rather than let through unlimited.
  const redis = config.redisUrl ? openRedis(config.redisUrl, logger, 'rate-limit', { maxRetriesPerRequest: 2, enableOfflineQueue: false }) : undefined;
  try {
    await redis?.connect();
    if (options.migrate ?? true) {
      const applied = await migrateToLatest(database.db as never, database.dialect, allMigrations(modules));
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    const metrics = createMetrics();
    const context: AppContext = {
      config,
      database,
      db: database.db,
      dialect: database.dialect,
      logger,
      metrics,
      now: options.now ?? Date.now,
      closing: closing.signal,
      ...(redis ? { redis } : {}),
    };
    if (options.demo) {
      for (const module of modules) await module.seedDemo?.(context);
    }
    http = await createHttpServer({
      logger,
      metrics,
      rateLimitPerMinute: config.rateLimitPerMinute,
      redis,
      ...(options.rateLimitNamespace ? { rateLimitNamespace: options.rateLimitNamespace } : {}),
      trustProxy: options.trustProxy ?? false,
      https: config.publicUrl.startsWith('https:'),
    });
    for (const module of modules) {
      if (module.routes) await http.register(async (scope) => module.routes!(scope, context));
    }
    await http.ready();
    if (options.background ?? true) {
      for (const module of modules) {
        const task = await module.startBackground?.(context);
        if (task) tasks.push(task);
      }
    }
    let closed: Promise<void> | undefined;
    const server = http;
    return {
      http: server,
      context,
      close: () =>
        (closed ??= (async () => {
          closing.abort();
          await Promise.allSettled(tasks.map((t) => t.stop()));
          await server.close();
          redis?.disconnect();
          if (ownsDatabase) await database.close();
        })()),
    };
  } catch (error) {
    closing.abort();
    await Promise.allSettled(tasks.map((t) => t.stop()));
    // Modules may have started timers while registering (OIDC key rotation, caches): their
    // onClose hooks stop them.
    await http?.close().catch(() => undefined);
    redis?.disconnect();
    if (ownsDatabase) await database.close();
    throw error;
  }
}
