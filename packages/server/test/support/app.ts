import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/platform/logger.ts';
import type { Dialect } from '../../src/platform/db/index.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { testKeyStore } from './key-attestation.ts';

export interface TestApp extends App {
  readonly database: TestDatabase;
  readonly config: Config;
}

/**
 * A whole service on a fresh database of the given dialect, with demo data, served through
 * Fastify's injector (or a real port with `listen`). Logs are silent unless TEST_LOG is set.
 */
export async function createTestApp(
  dialect: Dialect,
  options: {
    config?: Record<string, string | number | boolean>;
    demo?: boolean;
    now?: () => number;
    /** The modules to run (default: all of them, as deployed); tests swap one for a configured instance. */
    modules?: readonly TasdiqModule[];
    /** false: no background tasks (sweeps, the outbox worker); the test runs them itself. */
    background?: boolean;
    /** Where logs go (tests that inspect what the service logs); silent otherwise. */
    logDestination?: DestinationStream;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  // The test key store's root is trusted, so a test can activate a hardware-backed device
  // (test/support/key-attestation.ts); `keyAttestationRoots: ''` runs without trusted roots.
  const keyAttestationRoots = (await testKeyStore()).rootsFile;
  const config = loadConfig({}, { logLevel: process.env.TEST_LOG ?? 'silent', rateLimitPerMinute: 100_000, development: true, keyAttestationRoots, ...options.config });
  const app = await buildApp({
    config,
    database,
    logger: options.logDestination ? createLogger(config.logLevel, options.logDestination) : createLogger(config.logLevel),
    demo: options.demo ?? true,
    ...(options.now ? { now: options.now } : {}),
    ...(options.modules ? { modules: options.modules } : {}),
    ...(options.background === false ? { background: false } : {}),
  });
  return {
    ...app,
    database,
    config,
    async close() {
      await app.close();
      await database.dispose();
    },
  };
}
