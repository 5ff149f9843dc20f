import { parseArgs } from 'node:util';
import { loadConfig, startService, MODULES } from '@tasdiq/server';
import type { Command } from './commands.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the Tasdiq service (migrates the database first)',
  usage: 'tasdiq serve [--demo] [--port N] [--host H] [--config FILE]',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        demo: { type: 'boolean', default: false },
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
      },
      strict: true,
    });
    const config = loadConfig(
      process.env,
      {
        port: values.port,
        host: values.host,
        // Demo mode turns on development affordances unless the environment says otherwise.
        ...(values.demo && process.env.TASDIQ_DEVELOPMENT === undefined ? { development: true } : {}),
      },
      values.config,
    );
    const service = await startService(config, { demo: values.demo });
    // A derived PUBLIC_URL names the listening host (0.0.0.0 as localhost); an explicit one wins.
    const base = service.config.publicUrlDerived ? service.url : service.config.publicUrl;
    const lines = [
      '',
      `  Tasdiq is running on ${service.app.context.dialect === 'sqlite' ? 'embedded SQLite' : 'PostgreSQL'} (${service.app.context.database.location})`,
      values.demo ? '  Demo data loaded: every person, phone and document in it is synthetic.' : '',
      '',
      ...MODULES.flatMap((m) => m.links?.(base) ?? [])
        // A newcomer starts at the start page; the rest follow in module order.
        .sort((a, b) => Number(b.label === 'Start page') - Number(a.label === 'Start page'))
        .map((l) => (l.label.length > 40 ? `  ${l.label}\n  ${''.padEnd(40)} ${l.url}` : `  ${l.label.padEnd(40)} ${l.url}`)),
      '',
      '  Stop with Ctrl+C.',
      '',
    ];
    process.stdout.write(lines.filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n') + '\n');
    await new Promise<never>(() => {});
    return 0;
  },
};
