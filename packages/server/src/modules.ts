import type { TasdiqModule } from './platform/module.ts';
import type { ModuleMigration } from './platform/db/migrations.ts';
import { healthModule } from './health/routes.ts';
import { openapiModule } from './openapi/index.ts';
import { officesModule } from './offices/index.ts';
import { notifyModule } from './notify/index.ts';
import { clientsModule } from './clients/index.ts';
import { oidcModule } from './oidc/index.ts';
import { keysModule } from './platform/keys/index.ts';
import { webModule } from './web/index.ts';
import { identityModule } from './identity/index.ts';
import { auditModule } from './audit/index.ts';
import { enrollmentModule } from './enrollment/index.ts';
import { devicesModule } from './devices/index.ts';
import { authModule } from './auth/index.ts';

/** Every capability of the service, in dependency order. Add a module here to enable it. */
export const MODULES: readonly TasdiqModule[] = [openapiModule, healthModule, keysModule, officesModule, notifyModule, identityModule, auditModule, enrollmentModule, devicesModule, authModule, clientsModule, webModule, oidcModule];

/** All migrations of all modules, in their global (timestamp) order. */
export function allMigrations(modules: readonly TasdiqModule[] = MODULES): ModuleMigration[] {
  return modules.flatMap((m) => m.migrations ?? []).sort((a, b) => a.name.localeCompare(b.name));
}
