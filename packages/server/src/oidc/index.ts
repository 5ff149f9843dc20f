import type { TasdiqModule } from '../platform/module.ts';
import { oidcMigrations } from './migrations.ts';

export const oidcModule: TasdiqModule = {
  name: 'oidc',
  migrations: oidcMigrations,
};
