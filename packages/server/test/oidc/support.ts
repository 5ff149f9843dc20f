import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient } from '../../../client/src/index.ts';
import { buildApp, type App } from '../../src/app.ts';
import type { Dialect } from '../../src/platform/db/index.ts';
import { MODULES } from '../../src/modules.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import { createOidcModule, oidcModule, type OidcService } from '../../src/oidc/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import type { TestDatabase } from '../support/databases.ts';
import { enrollCitizen, type EnrolledCitizen } from '../devices/enroll.ts';
import { hardwareKeyStore } from '../support/key-attestation.ts';

/*
 * The OpenID provider as deployed, for protocol tests with openid-client: the whole service
 * (every module, the default OpenID module wired to the auth module's device sessions, claims
 * and login hints from the identity tables) on a real port, citizens enrolled through the
 * enrollment module's records and activation codes, and their phones as packages/client
 * DeviceClients that fetch the pending request and confirm it with a signature.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface OidcTestApp {
  readonly app: TestApp;
  readonly baseUrl: string;
  readonly oidc: OidcService;
  readonly database: TestDatabase;
  readonly dataDir: string;
  /** The service's clock (device sessions, storage); `advance` moves it, so a phone's request can expire. */
  readonly clock: () => number;
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * The whole service on a real port (openid-client talks HTTP). With `outboundFetch` the OpenID
 * module is the deployed one (device authentication of the auth module) with only its outbound
 * transport given: the provider's calls to a client's https endpoint (CIBA ping, back-channel
 * logout) reach a receiver on loopback, which oidc-provider's own fetch would refuse.
 */
export async function createOidcTestApp(
  dialect: Dialect,
  options: { config?: Record<string, string | number | boolean>; outboundFetch?: typeof fetch } = {},
): Promise<OidcTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-oidc-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let offset = 0;
  const clock = () => Date.now() + offset;
  const module = options.outboundFetch
    ? createOidcModule({ authenticator: (context) => createDeviceAuthenticator(authModule.service(context), context.db), outboundFetch: options.outboundFetch })
    : oidcModule;
  const app = await createTestApp(dialect, {
    config: { port, publicUrl: baseUrl, dataDir, ...options.config },
    now: clock,
    ...(options.outboundFetch ? { modules: MODULES.map((m) => (m.name === 'oidc' ? module : m)) } : {}),
  });
  await app.http.listen({ host: '127.0.0.1', port });
  return {
    app,
    baseUrl,
    oidc: module.service(app.context),
    database: app.database,
    dataDir,
    clock,
    advance: (ms) => void (offset += ms),
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Another instance of the same service (same database, master key and public URL) on its own
 * port, as behind a load balancer: a browser may reach either. Closing it leaves the database.
 */
export async function secondInstance(t: OidcTestApp): Promise<{ readonly url: string; close(): Promise<void> }> {
  const port = await freePort();
  const instance: App = await buildApp({ config: t.app.config, database: t.database, demo: false, background: false, logger: t.app.context.logger, now: t.clock });
  await instance.http.listen({ host: '127.0.0.1', port });
  return { url: `http://127.0.0.1:${port}`, close: () => instance.close() };
}

/** A citizen enrolled at a service center with an active phone binding, and their activated phone. */
export interface Citizen extends EnrolledCitizen {
  readonly device: DeviceClient;
}

/**
 * Enrolls a citizen and activates their phone, a native app whose keys the test key store
 * attests as hardware-backed (test/support/key-attestation.ts). `self_service`: the binding was
 * made without an in-person visit (the enrollment record says so, and the activation code
 * carries it), so the phone can prove `substantial` at most; in person it proves `high`.
 * `keyStorage: 'software'`: an unattested phone (WebCrypto keys, as the PWA's), `substantial`
 * at most and amr `swk`.
 */
export async function enrolledCitizen(t: OidcTestApp, options: { assurance?: 'in_person' | 'self_service'; keyStorage?: 'hardware' | 'software' } = {}): Promise<Citizen> {
  const enrolled = await enrollCitizen(t.app.context.db, t.baseUrl, t.clock);
  if (options.assurance === 'self_service') {
    await t.app.context.db.updateTable('enrollments').set({ assurance: 'self_service' }).where('citizen_id', '=', enrolled.citizenId).execute();
  }
  const attested = (options.keyStorage ?? 'hardware') === 'hardware' ? { keyAttestation: await hardwareKeyStore() } : {};
  const device = await DeviceClient.activate(t.baseUrl, await enrolled.activationCode(), { now: t.clock, ...attested });
  return { ...enrolled, device };
}

/** What a client's https endpoint received, on a loopback server. */
export interface Receiver {
  readonly received: { path: string; auth: string | undefined; body: string }[];
  /** Routes the provider's requests for `host` here; anything else is refused. */
  readonly outboundFetch: typeof fetch;
  close(): Promise<void>;
}

export async function receiver(host: string, status = 200): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', auth: request.headers.authorization, body });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  // TEST TRANSPORT: only the address changes; what oidc-provider sends (method, headers, body) is as sent.
  const outboundFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.host !== host) return Promise.reject(new Error(`unexpected outbound request to ${url.host}`));
    const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, rest);
  };
  return { received, outboundFetch, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
