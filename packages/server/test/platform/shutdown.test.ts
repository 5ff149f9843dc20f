import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { MODULES } from '../../src/modules.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase } from '../support/databases.ts';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    // A module that holds one request open, standing in for a long-poll of session status.
    const slow: TasdiqModule = {
      name: 'slow',
      routes: async (app) => {
        app.get('/slow', async () => {
          entered();
          await gate;
          return { done: true };
        });
      },
    };
    const database = await createTestDatabase('sqlite');
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'silent' }), database, logger: createLogger('silent'), modules: [...MODULES, slow] });
    const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
    try {
      const pending = fetch(`${address}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await inFlight;
      const closing = app.close();
      setTimeout(release, 100);
      expect(await pending).toEqual({ status: 200, body: { done: true } });
      await closing;
      await expect(fetch(`${address}/healthz`)).rejects.toThrow();
    } finally {
      release();
      await app.close();
      await database.dispose();
    }
  });
});
