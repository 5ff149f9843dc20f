import { fileURLToPath } from 'node:url';
import type { TasdiqModule } from '../platform/module.ts';
import { BuiltFiles } from './files.ts';
import { webRoutes } from './routes.ts';

/** Where `npm run build:web` writes the console, the citizen app and the landing page. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export function createWebModule(distDir: string = WEB_DIST): TasdiqModule {
  return {
    name: 'web',
    routes: webRoutes(new BuiltFiles(distDir)),
    links: (base) => [
      { label: 'Operator console', url: `${base}/console/` },
      { label: 'Citizen app', url: `${base}/app/` },
    ],
  };
}

export const webModule: TasdiqModule = createWebModule();
