import { browserBaseUrl } from '../platform/browser-url.ts';
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
    // The enrollment module prints the console's link, with how to create the first admin.
    links: (base) => [
      { label: 'Start page', url: `${base}/` },
      { label: 'Citizen app (PWA: activation, sign-in, offices)', url: `${browserBaseUrl(base)}/app/` },
    ],
  };
}

export const webModule: TasdiqModule = createWebModule();
