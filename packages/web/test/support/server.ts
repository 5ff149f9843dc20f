import { createServer } from 'node:net';
import type { Dialect } from '../../../server/src/platform/db/index.ts';
import { createTestApp, type TestApp } from '../../../server/test/support/app.ts';
import { ensureWebBuild } from '../../../../scripts/ensure-web-build.ts';

export interface RunningTestServer {
  readonly app: TestApp;
  /** http://localhost:<port>: the WebAuthn RP id is `localhost`, a secure context to Chromium. */
  readonly url: string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The real service on a real port with demo data and development affordances, serving the
 * built console. The port is chosen first because the public URL (the WebAuthn origin) must
 * name it before the app is built.
 */
export async function startTestServer(dialect: Dialect): Promise<RunningTestServer> {
  ensureWebBuild();
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const app = await createTestApp(dialect, { config: { publicUrl: url, port, host: 'localhost', development: true } });
  await app.http.listen({ host: 'localhost', port });
  return { app, url, close: () => app.close() };
}
