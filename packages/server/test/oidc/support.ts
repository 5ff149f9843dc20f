import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { Dialect } from '../../src/platform/db/index.ts';
import { MODULES } from '../../src/modules.ts';
import { createOidcModule, type OidcService } from '../../src/oidc/index.ts';
import type { Authenticator, AuthenticationRequest, PollResult, StartResult } from '../../src/oidc/authenticator.ts';
import type { CitizenClaims, CitizenDirectory } from '../../src/oidc/citizens.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

/**
 * TEST DOUBLE. Stands in for device authentication (packages/server/src/auth) so the
 * protocol machinery (PAR, PKCE, DPoP, tokens, CIBA) can be exercised before the device
 * flow is wired to the provider. A test decides each attempt's outcome; nothing here ships.
 */
export class ScriptedAuthenticator implements Authenticator {
  readonly started: AuthenticationRequest[] = [];
  readonly #outcomes = new Map<string, PollResult>();
  /** Outcome given to attempts as soon as they start (CIBA tests), when set. */
  autoApprove: PollResult | undefined;
  refuse: StartResult | undefined;

  async start(request: AuthenticationRequest): Promise<StartResult> {
    if (this.refuse) return this.refuse;
    this.started.push(request);
    const attemptId = `att_${randomUUID()}`;
    this.#outcomes.set(attemptId, this.autoApprove ?? { status: 'pending' });
    return { status: 'pending', attemptId, verificationCode: '4821', deviceLink: `tasdiq://auth/${attemptId}`, smsFallback: true, expiresAt: Date.now() + 120_000 };
  }

  async poll(attemptId: string): Promise<PollResult> {
    return this.#outcomes.get(attemptId) ?? { status: 'expired' };
  }

  /** The phone's answer to the latest attempt. */
  answerLatest(result: PollResult): void {
    const last = [...this.#outcomes.keys()].at(-1);
    if (!last) throw new Error('no attempt started');
    this.#outcomes.set(last, result);
  }
}

/**
 * TEST DOUBLE. Citizens for claims, until the identity module's tables are committed and the
 * real DatabaseCitizenDirectory can be used here; its queries are not exercised by these tests.
 */
export class FixedCitizenDirectory implements CitizenDirectory {
  readonly citizens = new Map<string, CitizenClaims & { phone: string }>();
  add(citizen: CitizenClaims & { phone: string }): void {
    this.citizens.set(citizen.citizenId, citizen);
  }
  async claims(citizenId: string): Promise<CitizenClaims | undefined> {
    return this.citizens.get(citizenId);
  }
  async resolveLoginHint(hint: { phone?: string; pinfl?: string }): Promise<string | undefined> {
    for (const c of this.citizens.values()) if (c.phone === hint.phone || c.pinfl === hint.pinfl) return c.citizenId;
    return undefined;
  }
}

export const CITIZEN: CitizenClaims & { phone: string } = {
  citizenId: 'cit_demo_0001',
  pinfl: '31234567890123',
  phone: '+998901234567',
  phoneNumber: '+998901234567',
  names: { latn: { given: 'Dilnoza', family: 'Karimova', middle: 'Akmalovna' }, cyrl: { given: 'Дилноза', family: 'Каримова', middle: 'Акмаловна' } },
  birthdate: '1990-04-12',
  document: { kind: 'id_card', series: 'AD', number: '1234567', expiresOn: '2031-04-11' },
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface OidcTestApp {
  readonly app: App;
  readonly baseUrl: string;
  readonly oidc: OidcService;
  readonly authenticator: ScriptedAuthenticator;
  readonly citizens: FixedCitizenDirectory;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** The whole service on a real port (openid-client talks HTTP), with the two test doubles above. */
export async function createOidcTestApp(
  dialect: Dialect,
  options: { config?: Record<string, string | number | boolean>; outboundFetch?: typeof fetch } = {},
): Promise<OidcTestApp> {
  const database = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-oidc-'));
  const port = await freePort();
  const config = loadConfig(
    {},
    { logLevel: process.env.TEST_LOG ?? 'silent', rateLimitPerMinute: 100_000, development: true, port, publicUrl: `http://127.0.0.1:${port}`, dataDir, ...options.config },
  );
  const authenticator = new ScriptedAuthenticator();
  const citizens = new FixedCitizenDirectory();
  citizens.add(CITIZEN);
  const oidcModule = createOidcModule({
    authenticator,
    citizens,
    cibaPollIntervalMs: 50,
    ...(options.outboundFetch ? { outboundFetch: options.outboundFetch } : {}),
  });
  const app = await buildApp({
    config,
    database,
    logger: createLogger(config.logLevel),
    demo: false,
    background: false,
    modules: MODULES.map((m) => (m.name === 'oidc' ? oidcModule : m)),
  });
  await app.http.listen({ host: '127.0.0.1', port });
  return {
    app,
    baseUrl: config.publicUrl,
    oidc: oidcModule.service(app.context),
    authenticator,
    citizens,
    database,
    async close() {
      await app.close();
      await database.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
