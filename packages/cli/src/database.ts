import { ApiError, allMigrations, loadConfig, migrateToLatest, openDatabase, type Config, type DatabaseHandle } from '@tasdiq/server';

/**
 * Runs an admin command against the configured database, migrated first, and closes it after.
 * A refusal of the service's own rules (an ApiError: unknown office, invalid client document)
 * is printed with its stable code and ends the command with exit code 1.
 */
export async function withDatabase(
  commandName: string,
  configFile: string | undefined,
  run: (database: DatabaseHandle, config: Config) => Promise<number>,
): Promise<number> {
  const config = loadConfig(process.env, {}, configFile);
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db as never, database.dialect, allMigrations());
    return await run(database, config);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    console.error(`tasdiq ${commandName}: ${error.code}: ${error.message}`);
    for (const problem of error.errors ?? []) console.error(`  ${problem.field || '(document)'}: ${problem.code}: ${problem.message}`);
    return 1;
  } finally {
    await database.close();
  }
}
