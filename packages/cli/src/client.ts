import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClientRegistry, rotateProviderKeys, type RelyingParty } from '@tasdiq/server';
import { withDatabase } from './database.ts';
import { UsageError, type Command } from './commands.ts';

const USAGE = [
  'tasdiq client register --file client.json [--config FILE]',
  '       tasdiq client list [--all] [--json] [--config FILE]',
  '       tasdiq client disable CLIENT_ID [--config FILE]',
  '       tasdiq client enable CLIENT_ID [--config FILE]',
].join('\n');

function describe(client: RelyingParty): string {
  return [
    client.clientId.padEnd(24),
    client.status.padEnd(8),
    client.tokenEndpointAuthMethod.padEnd(28),
    `${client.subjectType}:${client.sectorIdentifier}`.padEnd(32),
    client.fapi ? 'fapi2' : '-',
    client.name.en,
  ].join(' ');
}


export const clientCommand: Command = {
  name: 'client',
  summary: 'Register, list, disable and enable relying parties (services that sign citizens in)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        file: { type: 'string' },
        all: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [action, clientId] = positionals;
    if (!action || !['register', 'list', 'disable', 'enable'].includes(action)) throw new UsageError(`expected an action\nUsage: ${USAGE}`);
    if ((action === 'disable' || action === 'enable') && !clientId) throw new UsageError(`${action} needs a CLIENT_ID`);
    let document: unknown;
    if (action === 'register') {
      if (!values.file) throw new UsageError('register needs --file client.json');
      try {
        document = JSON.parse(readFileSync(values.file, 'utf8'));
      } catch (error) {
        throw new UsageError(`cannot read ${values.file}: ${(error as Error).message}`);
      }
    }
    return withDatabase('client', values.config, async (database) => {
      const registry = new ClientRegistry(database.db);
      if (action === 'register') {
        const client = await registry.register(document);
        console.log(`registered ${client.clientId} (${client.tokenEndpointAuthMethod}, ${client.subjectType} subjects, sector ${client.sectorIdentifier})`);
      } else if (action === 'list') {
        const clients = await registry.list(values.all ? {} : { status: 'active' });
        if (values.json) console.log(JSON.stringify(clients, null, 2));
        else for (const client of clients) console.log(describe(client));
      } else {
        const client = await registry.setStatus(clientId!, action === 'disable' ? 'disabled' : 'active');
        console.log(`${client.clientId} is ${client.status}`);
      }
      return 0;
    });
  },
};

export const oidcCommand: Command = {
  name: 'oidc',
  summary: 'OpenID provider upkeep: rotate the token signing keys',
  usage: 'tasdiq oidc rotate-keys [--config FILE]',
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { config: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals[0] !== 'rotate-keys' || positionals.length !== 1) throw new UsageError('Usage: tasdiq oidc rotate-keys [--config FILE]');
    return withDatabase('oidc', values.config, async (database, config) => {
      const kids = await rotateProviderKeys(database, config.dataDir);
      console.log(`new signing keys: ${kids.join(', ')} (running services switch within a minute; old keys stay published until their tokens expire)`);
      return 0;
    });
  },
};
