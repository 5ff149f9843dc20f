import type { TasdiqModule } from '../platform/module.ts';
import { clientMigrations } from './migrations.ts';
import { clientRoutes } from './routes.ts';

export { ClientRegistry, registrationDocument, type RegistryActor, type RegistryOptions } from './registry.ts';
export { ClientErrors } from './errors.ts';
export { validateRegistration, REGISTRATION_FIELDS, type ClientRegistration } from './validation.ts';
export { ID_TOKEN_ALGS, type IdTokenAlg } from './schema.ts';
export type { RelyingParty } from './repository.ts';
export { SCOPES, ACR_VALUES, acrRank, type Scope, type AcrValue } from './vocabulary.ts';

/** The relying-party registry: `tasdiq client ...` and the admin console's API. */
export const clientsModule: TasdiqModule = {
  name: 'clients',
  migrations: clientMigrations,
  routes: clientRoutes,
};
