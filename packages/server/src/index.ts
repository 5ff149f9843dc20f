export { buildApp, type App, type BuildAppOptions } from './app.ts';
export { startService, type RunningService } from './server.ts';
export { loadConfig, ConfigError, type Config } from './platform/config.ts';
export { openDatabase, redactDatabaseUrl, type DatabaseHandle } from './platform/db/index.ts';
export { migrateToLatest, createMigrator } from './platform/db/migrations.ts';
export { MODULES, allMigrations } from './modules.ts';
export { createLogger } from './platform/logger.ts';
export { ClientRegistry, type RelyingParty } from './clients/index.ts';
export { createNotifyRuntime, loadNotifyConfig } from './notify/index.ts';
