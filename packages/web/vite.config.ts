import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { serviceWorkerPlugin } from './scripts/service-worker-plugin.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * In `vite` dev mode, deep links of the single-page apps (/console/citizens/...) get their app's
 * index.html, as the server's web module does in production.
 */
function pageFallback(): Plugin {
  return {
    name: 'tasdiq-page-fallback',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const match = /^\/(console|app|welcome)(\/[^?.]*)?(\?.*)?$/.exec(req.url ?? '');
        if (match) req.url = `/${match[1]}/index.html${match[3] ?? ''}`;
        next();
      });
    },
  };
}

/**
 * One multi-page build: the landing page, the operator console and the citizen app share the
 * React chunk; hashed files land in dist/assets and each page in dist/<page>/index.html.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [
    react(),
    pageFallback(),
    serviceWorkerPlugin({
      entry: 'app/index.html',
      scope: '/app/',
      template: here('src/app/service-worker.js'),
      extra: ['/app/manifest.webmanifest', '/app/icons/icon.svg', '/app/icons/icon-maskable.svg'],
    }),
  ],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // CSP forbids inline scripts; Vite's modulepreload polyfill is not needed by these browsers.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: {
        welcome: here('welcome/index.html'),
        console: here('console/index.html'),
        app: here('app/index.html'),
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
