import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { serviceWorkerPlugin } from './scripts/service-worker-plugin.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * One multi-page build: the landing page, the operator console and the citizen app share the
 * React chunk; hashed files land in dist/assets and each page in dist/<page>/index.html.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [
    react(),
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
