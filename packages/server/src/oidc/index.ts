import type { AppContext, TasdiqModule } from '../platform/module.ts';
import { oidcMigrations } from './migrations.ts';
import { OidcService, type OidcOptions } from './service.ts';
import { providerRoutes } from './routes.ts';
import { ProviderKeys } from './keys.ts';
import { DbKeyStore, loadMasterKey } from '../platform/keys/index.ts';
import type { DatabaseHandle } from '../platform/db/index.ts';
import { authModule, createDeviceAuthenticator } from '../auth/index.ts';
import { deviceServicesFor } from '../devices/index.ts';
import { enrollmentDirectory } from '../devices/directory.ts';
import { recordAudit } from '../audit/audit.ts';

export { OidcService, type OidcOptions } from './service.ts';
export type { Authenticator, AuthenticationRequest, StartResult, PollResult } from './authenticator.ts';
export type { CitizenDirectory, CitizenClaims } from './citizens.ts';
export { ConsentRepository, type Consent } from './consents.ts';
export { OIDC_ROUTES } from './provider.ts';

/**
 * Rotates the provider's signing keys from outside a running service (`tasdiq oidc
 * rotate-keys`). Running instances pick the new keys up within a minute; old keys stay
 * published until the tokens they signed have expired. Returns the new current key ids.
 */
export async function rotateProviderKeys(database: DatabaseHandle, dataDir: string): Promise<string[]> {
  const keys = new ProviderKeys(new DbKeyStore(database.db, loadMasterKey({ dataDir })), database.db, Date.now);
  await keys.rotate();
  return (await keys.signingKeys()).filter((k) => k.current).map((k) => k.kid);
}

/** How often expired state is dropped, old keys retired and other instances' rotations picked up. */
const MAINTENANCE_MS = 60_000;

/** The OpenID provider module; tests and the device-auth wiring pass their own options. */
export function createOidcModule(options: OidcOptions = {}): TasdiqModule & { service(context: AppContext): OidcService } {
  const services = new WeakMap<AppContext, OidcService>();
  const serviceFor = (context: AppContext) => {
    let service = services.get(context);
    if (!service) {
      service = new OidcService(context, options);
      services.set(context, service);
    }
    return service;
  };
  return {
    name: 'oidc',
    migrations: oidcMigrations,
    service: serviceFor,
    async routes(app, context) {
      const service = serviceFor(context);
      await service.start();
      app.addHook('onClose', () => service.stop());
      await providerRoutes(app, service, deviceServicesFor(context, { directory: enrollmentDirectory, audit: recordAudit }).authenticator);
    },
    links: (base) => [{ label: 'OpenID Connect discovery', url: `${base}/.well-known/openid-configuration` }],
    async startBackground(context) {
      const service = serviceFor(context);
      const timer = setInterval(() => {
        service.maintain().catch((error: unknown) => context.logger.error({ err: error }, 'OpenID maintenance failed'));
      }, MAINTENANCE_MS);
      timer.unref();
      return { stop: async () => clearInterval(timer) };
    },
  };
}

/** The service's provider: citizens sign in with their phone through the auth module's device sessions. */
export const oidcModule = createOidcModule({ authenticator: (context) => createDeviceAuthenticator(authModule.service(context), context.db) });
