import { browserBaseUrl } from '../platform/browser-url.ts';
import type { TasdiqModule } from '../platform/module.ts';
import { loadMasterKey } from '../platform/keys/index.ts';
import { registryFromEnvironment } from '../identity/registry/index.ts';
import { RegistryAnswerInvalidError, type PopulationRegistry } from '../identity/registry/types.ts';
import type { Logger } from '../platform/logger.ts';
import { auditPinflKey } from './actor.ts';
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
      const chosen = options.registry ?? registryFromEnvironment(process.env, context.config.development);
      const registry = chosen && loggingRegistry(chosen, context.logger);
      app.decorateRequest('operator', undefined);
      // Everything here is one operator's private view (citizens, codes, CSRF tokens, links).
      app.addHook('onSend', async (_request, reply, payload) => {
        if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
        return payload;
      });
      await operatorAuthRoutes(app, context);
      await enrollmentRoutes(app, context, registry, auditPinflKey(loadMasterKey({ dataDir: context.config.dataDir })));
    },
    links: (base) => [
      // Passkeys need a domain name, not an IP address, so the console is opened at localhost.
      { label: 'Operator console (passkeys)', url: `${browserBaseUrl(base)}/console/` },
      { label: 'First admin: npx tasdiq operator create-admin --name "Your Name" --office psc-tk-01', url: '(prints a one-time link)' },
    ],
  };
}

export const enrollmentModule: TasdiqModule = createEnrollmentModule();

/** Says in the log what was wrong with a refused registry answer (the field, never a value). */
function loggingRegistry(registry: PopulationRegistry, logger: Logger): PopulationRegistry {
  const logged = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      if (error instanceof RegistryAnswerInvalidError) logger.warn({ registry: registry.source, problem: error.problem }, 'population registry answer refused');
      throw error;
    }
  };
  return {
    source: registry.source,
    findByPinfl: (pinfl) => logged(() => registry.findByPinfl(pinfl)),
    findByDocument: (series, number) => logged(() => registry.findByDocument(series, number)),
  };
}
