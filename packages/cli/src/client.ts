import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiError, ClientRegistry, registrationDocument, rotateProviderKeys, type RelyingParty } from '@tasdiq/server';
import { withDatabase } from './database.ts';
import { UsageError, type Command } from './commands.ts';

const USAGE = [
  'tasdiq client register --file client.json [--config FILE]',
  '       tasdiq client list [--all] [--json] [--config FILE]',
  '       tasdiq client show --id CLIENT_ID [--config FILE]',
  '       tasdiq client update --id CLIENT_ID --file client.json [--if-version N] [--config FILE]',
  '       tasdiq client disable --id CLIENT_ID [--config FILE]',
  '       tasdiq client enable --id CLIENT_ID [--config FILE]',
  '',
  'show prints the registration document with its "version"; edit it and give it to update,',
  'which replaces every editable field and applies only if nobody changed the client since that',
  'version (else client_version_conflict: show it again). client_id, sector_identifier and',
  'subject_type cannot change (pairwise subjects are derived from the sector). There are no',
  'client secrets: clients authenticate with private_key_jwt (public keys in jwks or jwks_uri)',
  'or a TLS client certificate, and a document with client_secret or private key members is refused.',
].join('\n');

const ACTIONS = ['register', 'list', 'show', 'update', 'disable', 'enable'];

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

function readDocument(file: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new UsageError(`${file} must hold a JSON object`);
  return document as Record<string, unknown>;
}

/** The version an update is based on: --if-version, or the "version" that `show` wrote into the file. */
function expectedVersion(flag: string | undefined, document: Record<string, unknown>): number {
  const fromFile = document.version;
  const parse = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : typeof value === 'string' && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : undefined);
  const flagged = flag === undefined ? undefined : parse(flag);
  if (flag !== undefined && flagged === undefined) throw new UsageError('--if-version needs a positive whole number');
  const filed = fromFile === undefined ? undefined : parse(fromFile);
  if (fromFile !== undefined && filed === undefined) throw new UsageError('"version" in the file must be a positive whole number');
  if (flagged !== undefined && filed !== undefined && flagged !== filed) throw new UsageError(`--if-version ${flagged} and the file's "version" ${filed} disagree`);
  const version = flagged ?? filed;
  if (version === undefined) {
    throw new UsageError('update needs the version you edited: `tasdiq client show --id CLIENT_ID` prints the document with it, or pass --if-version N');
  }
  return version;
}

export const clientCommand: Command = {
  name: 'client',
  summary: 'Register, list, show, update, disable and enable relying parties (services that sign citizens in)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        file: { type: 'string' },
        id: { type: 'string' },
        'if-version': { type: 'string' },
        all: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [action, positionalId, ...rest] = positionals;
    if (!action || !ACTIONS.includes(action)) throw new UsageError(`expected an action\nUsage: ${USAGE}`);
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    if (values.id !== undefined && positionalId !== undefined && values.id !== positionalId) throw new UsageError('give the client id once (--id)');
    // `disable soliq-portal` (the earlier form) and `disable --id soliq-portal` both work.
    const clientId = values.id ?? positionalId;
    const needsId = ['show', 'update', 'disable', 'enable'].includes(action);
    if (needsId && !clientId) throw new UsageError(`${action} needs --id CLIENT_ID`);
    if (!needsId && clientId !== undefined) throw new UsageError(`${action} takes no client id`);
    let document: Record<string, unknown> | undefined;
    let version = 0;
    if (action === 'register' || action === 'update') {
      if (!values.file) throw new UsageError(`${action} needs --file client.json`);
      document = readDocument(values.file);
      if (action === 'update') {
        version = expectedVersion(values['if-version'], document);
        const { version: _version, ...metadata } = document;
        document = metadata;
      }
    } else if (values.file !== undefined || values['if-version'] !== undefined) {
      throw new UsageError(`${action} takes no --file or --if-version`);
    }
    return withDatabase('client', values.config, async (database, config) => {
      const registry = new ClientRegistry(database.db, Date.now, { development: config.development });
      if (action === 'register') {
        const client = await registry.register(document);
        console.log(`registered ${client.clientId} (${client.tokenEndpointAuthMethod}, ${client.subjectType} subjects, sector ${client.sectorIdentifier}) at version ${client.version}`);
      } else if (action === 'list') {
        const clients = await registry.list(values.all ? {} : { status: 'active' });
        if (values.json) console.log(JSON.stringify(clients, null, 2));
        else for (const client of clients) console.log(describe(client));
      } else if (action === 'show') {
        const client = await registry.find(clientId!);
        if (!client) throw new ApiError('client_not_found');
        console.log(JSON.stringify({ ...registrationDocument(client), version: client.version }, null, 2));
      } else if (action === 'update') {
        const client = await registry.update(clientId!, document, version);
        console.log(client.version === version ? `${client.clientId} unchanged (version ${client.version})` : `updated ${client.clientId} to version ${client.version}`);
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
