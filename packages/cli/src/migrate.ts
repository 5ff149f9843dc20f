import { parseArgs } from 'node:util';
import { loadConfig, openDatabase, createMigrator, allMigrations } from '@tasdiq/server';
import type { Command } from './commands.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations (or list them with --status)',
  usage: 'tasdiq migrate [--status] [--config FILE]',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { status: { type: 'boolean', default: false }, config: { type: 'string' } },
      strict: true,
    });
    const config = loadConfig(process.env, {}, values.config);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      const migrator = await createMigrator(database.db as never, database.dialect, allMigrations());
      if (values.status) {
        for (const m of await migrator.getMigrations()) {
          console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}`);
        }
        return 0;
      }
      const result = await migrator.migrateToLatest();
      for (const r of result.results ?? []) console.log(`${r.status.toLowerCase()}  ${r.migrationName}`);
      if (result.error) {
        console.error(`migration failed: ${String(result.error)}`);
        return 1;
      }
      console.log(`database ${database.location} is up to date`);
      return 0;
    } finally {
      await database.close();
    }
  },
};
