import type { TasdiqModule } from '../platform/module.ts';
import { clientMigrations } from './migrations.ts';

export { ClientRegistry } from './registry.ts';
export { ClientErrors } from './errors.ts';
export { validateRegistration, type ClientRegistration } from './validation.ts';
export type { RelyingParty } from './repository.ts';
export { SCOPES, ACR_VALUES, acrRank, type Scope, type AcrValue } from './vocabulary.ts';

/** The relying-party registry. Admin routes come with the console; the CLI registers today. */
export const clientsModule: TasdiqModule = {
  name: 'clients',
  migrations: clientMigrations,
};
