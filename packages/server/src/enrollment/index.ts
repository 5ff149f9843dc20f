import { browserBaseUrl } from '../platform/browser-url.ts';
import type { TasdiqModule } from '../platform/module.ts';
import { registryFromEnvironment } from '../identity/registry/index.ts';
import type { PopulationRegistry } from '../identity/registry/types.ts';
import { enrollmentMigrations } from './migrations.ts';
import { operatorAuthRoutes } from './auth-routes.ts';
import { enrollmentRoutes } from './routes.ts';
import './errors.ts';
import '../identity/errors.ts';

export { consumeActivationCode, getActiveBinding, type ConsumedActivation, type ActiveBinding } from './activation.ts';
export { inviteOperator, type Invitation } from './operators.ts';
export { citizenOfficeHistory, type OfficeEvent } from './citizen-offices.ts';
export { EnrollmentErrors } from './errors.ts';
export { SESSION_COOKIE, CSRF_HEADER } from './session.ts';
export type { Operator, OperatorRole, Enrollment, PhoneBinding, Assurance } from './schema.ts';
export { OPERATOR_ROLES } from './schema.ts';

/**
 * Enrollment at public services centers and notary offices: operator sign-in with passkeys,
 * registry look-up, phone binding by SMS code, app activation codes, and the lifecycle.
 * `registry` overrides the one chosen from the environment (tests pass a stand-in).
 */
export function createEnrollmentModule(options: { registry?: PopulationRegistry } = {}): TasdiqModule {
  return {
    name: 'enrollment',
    migrations: enrollmentMigrations,
    async routes(app, context) {
      const registry = options.registry ?? registryFromEnvironment(process.env, context.config.development);
      app.decorateRequest('operator', undefined);
      await operatorAuthRoutes(app, context);
      await enrollmentRoutes(app, context, registry);
    },
    links: (base) => [
      // Passkeys need a domain name, not an IP address, so the console is opened at localhost.
      { label: 'Operator console (passkeys)', url: `${browserBaseUrl(base)}/console/` },
      { label: 'First admin: npx tasdiq operator create-admin --name "Your Name" --office psc-tk-01', url: '(prints a one-time link)' },
    ],
  };
}

export const enrollmentModule: TasdiqModule = createEnrollmentModule();
