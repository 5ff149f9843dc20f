import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/platform/config.ts';
import { createLogger } from '../../server/src/platform/logger.ts';
import { healthModule } from '../../server/src/health/routes.ts';
import { createWebModule } from '../../server/src/web/index.ts';
import { createTestDatabase, type TestDatabase } from '../../server/test/support/databases.ts';
import { ensureWebBuild } from '../../../scripts/ensure-web-build.ts';

async function appServing(distDir: string, database: TestDatabase, development = false): Promise<App> {
  const config = loadConfig({}, { logLevel: 'silent', development });
  return buildApp({ config, database, logger: createLogger('silent'), modules: [healthModule, createWebModule(distDir)], background: false });
}

describe('serving the built web apps', () => {
  let database: TestDatabase;
  let app: App;

  beforeAll(async () => {
    ensureWebBuild();
    database = await createTestDatabase('sqlite', { migrate: false });
    app = await appServing(join(import.meta.dirname, '..', 'dist'), database, true);
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('redirects / to the landing page and a bare app path to its folder, keeping the query', async () => {
    const root = await app.http.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/welcome/');
    const bare = await app.http.inject({ url: '/console?lang=ru' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/console/?lang=ru');
  });

  it('answers every page route of an app with its index.html, uncached, under a strict CSP', async () => {
    for (const url of ['/console/', '/console/register?token=x', '/console/citizens/cit_123', '/app/', '/welcome/']) {
      const response = await app.http.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      // No inline script may be in the page, or the CSP would block the app.
      expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('serves hashed assets for a year and the service worker and manifest revalidated', async () => {
    const page = await app.http.inject({ url: '/console/' });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await app.http.inject({ url: script! });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const worker = await app.http.inject({ url: '/app/sw.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['cache-control']).toBe('no-cache');
    expect(worker.body).toContain('/app/manifest.webmanifest');
    expect(worker.body).not.toContain('const PRECACHE = [];');
    const manifest = await app.http.inject({ url: '/app/manifest.webmanifest' });
    expect(manifest.json()).toMatchObject({ scope: '/app/', start_url: '/app/' });
  });

  it('answers a missing file with 404 problem+json instead of the app page', async () => {
    for (const url of ['/assets/missing-1234.js', '/console/missing.js', '/console/..%2f..%2fpackage.json', '/app/../../package.json']) {
      const response = await app.http.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe('not_found');
    }
  });

  it('tells the console whether development pages exist', async () => {
    expect((await app.http.inject({ url: '/api/v1/web/runtime' })).json()).toEqual({ development: true });
  });

  it('says how to build when there is no build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tasdiq-web-empty-'));
    const bare = await appServing(empty, database);
    try {
      const response = await bare.http.inject({ url: '/console/', headers: { 'accept-language': 'en' } });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'web_not_built', title: 'The web app is not built yet: run npm run build:web' });
      expect((await bare.http.inject({ url: '/api/v1/web/runtime' })).json()).toEqual({ development: false });
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
