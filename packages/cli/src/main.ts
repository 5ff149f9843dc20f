import { ConfigError } from '@tasdiq/server';
import { UsageError, type Command } from './commands.ts';
import { serveCommand } from './serve.ts';
import { migrateCommand } from './migrate.ts';
import { deviceCommand } from './device.ts';
import { clientCommand, oidcCommand } from './client.ts';
import { workerCommand } from './worker.ts';
import { operatorCommand } from './operator.ts';

/** Every sub-command; admin commands of later modules are added here. */
export const COMMANDS: readonly Command[] = [serveCommand, migrateCommand, clientCommand, oidcCommand, workerCommand, operatorCommand, deviceCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: tasdiq <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables (PORT, HOST, PUBLIC_URL, DATABASE_URL,',
    'TASDIQ_DATA_DIR, LOG_LEVEL, ...) and an optional JSON file (--config or TASDIQ_CONFIG).',
    "Run 'tasdiq <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`tasdiq: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(`tasdiq ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`tasdiq ${name}: ${error.message}\nUsage: ${command.usage}`);
      return 2;
    }
    throw error;
  }
}
