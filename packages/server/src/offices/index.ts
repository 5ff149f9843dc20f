import type { TasdiqModule } from '../platform/module.ts';
import { officeMigrations } from './migrations.ts';
import { officeRoutes } from './routes.ts';
import { OfficeRepository } from './repository.ts';
import { demoOffices } from './demo.ts';

export { OfficeRepository };
export type { Office, OfficeKind } from './schema.ts';

export const officesModule: TasdiqModule = {
  name: 'offices',
  migrations: officeMigrations,
  routes: officeRoutes,
  links: (base) => [{ label: 'Enrollment offices (public API)', url: `${base}/api/v1/offices?region=UZ-SU` }],
  async seedDemo(context) {
    await new OfficeRepository(context.db).insertMissing(demoOffices(context.now()));
  },
};
