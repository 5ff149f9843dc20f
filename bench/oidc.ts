/**
 * OpenID provider throughput, in one process with its load generator:
 * - signins_per_s: successful whole sign-ins over HTTP (PAR with private_key_jwt, authorize, the sign-in
 *   pages with the citizen's phone number, consent remembered, code exchange) confirmed by
 *   simulated phones (packages/client DeviceClient: each fetches its pending request with a
 *   signed device request and confirms with the code the page shows and its signature), so
 *   the figure is a complete sign-in through the real device authentication and identity tables;
 * - token_per_s and p99_ms: the token endpoint exchanging authorization codes (PKCE S256,
 *   private_key_jwt, ES256 ID token signed through the KeyStore, state in Tasdiq's storage);
 * - baseline_token_per_s: the same exchange against a plain oidc-provider with its in-memory
 *   adapter and an in-process ES256 key, measured in the same run.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DeviceClient } from '../packages/client/src/index.ts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Provider } from 'oidc-provider';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/platform/config.ts';
import { createLogger } from '../packages/server/src/platform/logger.ts';
import { openDatabase } from '../packages/server/src/platform/db/index.ts';
import { oidcModule } from '../packages/server/src/oidc/index.ts';
import { enrollCitizen } from '../packages/server/test/devices/enroll.ts';
import { formatLine, percentile, postgresAnswers, scratchPostgres } from './lib/service.ts';

const SIGNINS = Number(process.env.BENCH_OIDC_SIGNINS ?? 300);
const TOKENS = Number(process.env.BENCH_OIDC_TOKENS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const REDIRECT_URI = 'https://rp.bench.example.uz/cb';

/** The baseline provider's only account. */
const BASELINE_ACCOUNT = 'cit_bench_baseline';

/** A citizen with an activated phone, driven by the device simulator. */
interface Phone {
  readonly citizenId: string;
  readonly number: string;
  readonly device: DeviceClient;
}

interface RelyingParty {
  readonly clientId: string;
  readonly publicJwk: Record<string, unknown>;
  assertion(audience: string): Promise<string>;
}

async function relyingParty(): Promise<RelyingParty> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return {
    clientId: 'bench-rp',
    publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' },
    assertion: (audience) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('bench-rp')
        .setSubject('bench-rp')
        .setAudience(audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
  };
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}


/** Mints codes directly through the provider's models (as the authorization endpoint would). */
async function mintCodes(provider: Provider, clientId: string, accountId: string, count: number): Promise<{ code: string; verifier: string }[]> {
  const models = provider as unknown as {
    Client: { find(id: string): Promise<unknown> };
    Grant: new (p: { accountId: string; clientId: string }) => { addOIDCScope(s: string): void; save(): Promise<string> };
    AuthorizationCode: new (p: Record<string, unknown>) => { save(): Promise<string> };
  };
  const client = await models.Client.find(clientId);
  const grant = new models.Grant({ accountId, clientId });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  return pool(count, 8, async () => {
    const { verifier, challenge } = pkce();
    const code = await new models.AuthorizationCode({
      accountId,
      acr: 'urn:tasdiq:acr:substantial',
      authTime: Math.floor(Date.now() / 1000),
      client,
      grantId,
      redirectUri: REDIRECT_URI,
      scope: 'openid',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
    }).save();
    return { code, verifier };
  });
}

/** Exchanges every code once, `CONCURRENCY` at a time; assertions are signed before the clock starts. */
async function measureTokens(tokenUrl: string, issuer: string, rp: RelyingParty, codes: { code: string; verifier: string }[]) {
  const assertions = await pool(codes.length, 8, () => rp.assertion(issuer));
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  await pool(codes.length, CONCURRENCY, async (i) => {
    const t0 = performance.now();
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: codes[i]!.code,
        code_verifier: codes[i]!.verifier,
        redirect_uri: REDIRECT_URI,
        client_id: rp.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertions[i]!,
      }),
    });
    const body = (await response.json()) as { id_token?: string };
    if (response.status !== 200 || !body.id_token) failures++;
    latencies.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { per_s: Math.round(codes.length / seconds), p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), failures };
}

/**
 * One browser's whole sign-in, confirmed on the phone: null when it ended with an ID token,
 * otherwise the step that did not go as a citizen's would (counted and printed as a failure).
 */
async function signIn(baseUrl: string, rp: RelyingParty, phone: Phone): Promise<string | null> {
  const cookies = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(new URL(url, baseUrl), { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
    if (process.env.BENCH_DEBUG) console.log(response.status, url, response.headers.get('location'));
    return response;
  };
  const form = (body: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  const { verifier, challenge } = pkce();
  const par = await fetch(`${baseUrl}/oidc/par`, {
    ...form({
      client_id: rp.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await rp.assertion(baseUrl),
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid pinfl',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }),
  });
  const { request_uri: requestUri } = (await par.json()) as { request_uri?: string };
  if (!requestUri) return `par ${par.status}`;
  const authorize = await send(`/oidc/authorize?client_id=${rp.clientId}&request_uri=${encodeURIComponent(requestUri)}`);
  const signin = authorize.headers.get('location');
  if (!signin?.startsWith('/signin/')) return `authorize ${authorize.status}`;
  const started = await send(`${signin}/start`, form({ hint: phone.number }));
  if (started.status !== 303) return `start ${started.status}`;
  const shown = /<p class="code"[^>]*>(\d{4})<\/p>/.exec(await (await send(started.headers.get('location')!)).text())?.[1];
  const request = await phone.device.pending();
  if (!shown) return 'no verification code on the page';
  if (!request) return 'no pending request on the phone';
  const confirmed = await phone.device.confirm(request, shown);
  if (confirmed.result !== 'OK') return `phone ${confirmed.result ?? confirmed.state}`;
  let next = (await send(`${signin}/complete`)).headers.get('location');
  for (let i = 0; i < 6 && next && !next.startsWith(REDIRECT_URI); i++) {
    const response = await send(next);
    // The consent step is a new interaction with its own page.
    if (response.status === 200 && next.startsWith('/signin/')) next = (await send(`${next}/consent`, form({ decision: 'allow' }))).headers.get('location');
    else next = response.headers.get('location');
  }
  const code = next ? new URL(next).searchParams.get('code') : null;
  if (!code) return `no code (${next ?? 'no redirect'})`;
  const token = await fetch(`${baseUrl}/oidc/token`, {
    ...form({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: rp.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await rp.assertion(baseUrl),
    }),
  });
  if (token.status !== 200) return `token ${token.status}`;
  return ((await token.json()) as { id_token?: string }).id_token ? null : 'token without id_token';
}

async function measureTasdiq(db: 'sqlite' | 'postgres', databaseUrl?: string): Promise<Record<string, number | string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-bench-oidc-'));
  const database = openDatabase({ databaseUrl, dataDir });
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
  const config = loadConfig({}, { logLevel: 'warn', rateLimitPerMinute: 10_000_000, port, dataDir, publicUrl: `http://127.0.0.1:${port}` });
  // Demo data for the offices the enrolled citizens' records point at.
  const app = await buildApp({ config, database, logger: createLogger('warn'), background: false, demo: true });
  await app.http.listen({ host: '127.0.0.1', port });
  const baseUrl = config.publicUrl;
  try {
    const rp = await relyingParty();
    const oidc = oidcModule.service(app.context);
    await oidc.registry.register({
      client_id: rp.clientId,
      name: { 'uz-Latn': 'Bench', 'uz-Cyrl': 'Бенч', ru: 'Бенч', en: 'Bench' },
      redirect_uris: [REDIRECT_URI],
      jwks: { keys: [rp.publicJwk] },
      scopes: ['openid', 'pinfl'],
      acr_values: ['urn:tasdiq:acr:substantial'],
      contacts: ['bench@rp.bench.example.uz'],
    });
    const phones = await pool(CONCURRENCY, 4, async (): Promise<Phone> => {
      const citizen = await enrollCitizen(app.context.db, baseUrl);
      return { citizenId: citizen.citizenId, number: citizen.phone, device: await DeviceClient.activate(baseUrl, await citizen.activationCode()) };
    });
    // Warm-up, and each citizen gives the consent once.
    const warm = await Promise.all(phones.map((phone) => signIn(baseUrl, rp, phone)));
    const warmFailure = warm.find((failure) => failure !== null);
    if (warmFailure) throw new Error(`a warm-up sign-in failed: ${warmFailure} (BENCH_DEBUG=1 shows the steps)`);
    // Each phone signs its citizen in again and again; a citizen has one sign-in at a time.
    const failures = new Map<string, number>();
    let succeeded = 0;
    let left = SIGNINS;
    const started = performance.now();
    await Promise.all(
      phones.map(async (phone) => {
        while (left > 0) {
          left--;
          const failure = await signIn(baseUrl, rp, phone).catch((error: unknown) => `error: ${error instanceof Error ? error.message : String(error)}`);
          if (failure === null) succeeded++;
          else failures.set(failure, (failures.get(failure) ?? 0) + 1);
        }
      }),
    );
    // Only sign-ins that ended with an ID token count; the others are printed.
    const signinsPerS = Math.round(succeeded / ((performance.now() - started) / 1000));
    for (const [failure, count] of failures) console.error(`bench oidc (${db}): ${count} sign-in(s) failed: ${failure}`);
    const codes = await mintCodes(oidc.provider, rp.clientId, phones[0]!.citizenId, TOKENS);
    const tokens = await measureTokens(`${baseUrl}/oidc/token`, baseUrl, rp, codes);
    return {
      signins_per_s: signinsPerS,
      token_per_s: tokens.per_s,
      p50_ms: Math.round(tokens.p50_ms * 10) / 10,
      p99_ms: Math.round(tokens.p99_ms * 10) / 10,
      signin_failures: SIGNINS - succeeded,
      token_failures: tokens.failures,
      db,
    };
  } finally {
    await app.close();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A plain oidc-provider: in-memory adapter, in-process ES256 key, same client and exchange. */
async function measureBaseline(): Promise<{ per_s: number; p99_ms: number; failures: number }> {
  const rp = await relyingParty();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = createServer().listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port));
  });
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: rp.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [rp.publicJwk] },
        redirect_uris: [REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'baseline' }] },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: { devInteractions: { enabled: false } },
  });
  server!.on('request', provider.callback());
  try {
    const codes = await mintCodes(provider, rp.clientId, BASELINE_ACCOUNT, TOKENS);
    return await measureTokens(`${issuer}/token`, issuer, rp, codes);
  } finally {
    server!.close();
  }
}

export default async function run(): Promise<void> {
  const baseline = await measureBaseline();
  const sqlite = await measureTasdiq('sqlite');
  console.log(formatLine('oidc', { ...sqlite, baseline_token_per_s: baseline.per_s, baseline_p99_ms: Math.round(baseline.p99_ms * 10) / 10 }));
  if (await postgresAnswers()) {
    const scratch = await scratchPostgres('tasdiq_bench_oidc');
    try {
      const postgres = await measureTasdiq('postgres', scratch.url);
      console.log(formatLine('oidc', { ...postgres, baseline_token_per_s: baseline.per_s, baseline_p99_ms: Math.round(baseline.p99_ms * 10) / 10 }));
    } finally {
      await scratch.drop();
    }
  }
}
