import type { AppContext, TasdiqModule } from '../platform/module.ts';
import { enrollmentDirectory } from '../devices/directory.ts';
import { recordAudit } from '../audit/audit.ts';
import { loadMasterKey } from '../platform/keys/index.ts';
import { deviceServicesFor } from '../devices/index.ts';
import type { DeviceDependencies } from '../devices/ports.ts';
import { authMigrations } from './migrations.ts';
import { AuthService, type AuthPolicy } from './service.ts';
import { authRoutes } from './routes.ts';
import { otpPepper } from './codes.ts';
import { loadAuthPolicy } from './config.ts';
import { webauthnParty } from '../platform/webauthn.ts';

export { loadAuthPolicy } from './config.ts';
export { AuthService, DEFAULT_POLICY, type AuthPolicy, type SessionView, type StartedSession, type PendingRequest } from './service.ts';
export { verificationCode, verificationChoices, qrAuthCode, qrPayload } from './codes.ts';
export { AuthErrors } from './errors.ts';
export { createDeviceAuthenticator } from './oidc-authenticator.ts';
export type { SessionResult, SessionMode, SessionKind, Interaction } from './schema.ts';
export { INTERACTIONS } from './schema.ts';

const SWEEP_INTERVAL_MS = 1000;
const PURGE_EVERY_SWEEPS = 60;

/** The auth module; `service(context)` gives its AuthService to other modules (the OpenID provider). */
export function createAuthModule(deps: DeviceDependencies, policy: Partial<AuthPolicy> = {}): TasdiqModule & { service(context: AppContext): AuthService } {
  const services = new WeakMap<object, AuthService>();
  const serviceFor = (context: AppContext) => {
    let auth = services.get(context);
    if (!auth) {
      const devices = deviceServicesFor(context, deps);
      auth = new AuthService({
        db: context.db,
        deps,
        now: context.now,
        // The operator's settings (TASDIQ_AUTH_*), then the caller's (tests).
        policy: { ...loadAuthPolicy(), ...policy },
        otpPepper: otpPepper(loadMasterKey({ dataDir: context.config.dataDir })),
        certificateChain: (serial) => devices.devices.certificateChain(serial),
        party: () => webauthnParty(context.config.publicUrl),
        logger: context.logger,
      });
      services.set(context, auth);
    }
    return auth;
  };
  return {
    name: 'auth',
    service: serviceFor,
    migrations: authMigrations,
    routes: (app, context) => authRoutes(serviceFor(context), deviceServicesFor(context, deps).authenticator)(app, context),
    async startBackground(context) {
      const auth = serviceFor(context);
      let running: Promise<unknown> = Promise.resolve();
      let sweeps = 0;
      const timer = setInterval(() => {
        // Expiry and delivery failures every second; the purge of old completed sessions once a minute.
        const purge = ++sweeps % PURGE_EVERY_SWEEPS === 0 ? auth.purgeCompleted() : undefined;
        running = Promise.all([auth.expireDue(), auth.failUndelivered(), purge]).catch((error: unknown) => context.logger.error({ err: error }, 'auth session sweep failed'));
      }, SWEEP_INTERVAL_MS);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await running;
        },
      };
    },
  };
}

export const authModule = createAuthModule({ directory: enrollmentDirectory, audit: recordAudit });
