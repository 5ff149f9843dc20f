/**
 * Complete Mobile-ID sign-ins, as a production relying party makes them: it starts a session
 * with an RFC 7523 client assertion (a registered client, ES256), the simulated phone fetches
 * the pending request (a signed device request), confirms with the code and its signature over
 * the challenge, and the relying party reads the result (long poll). The service runs in its
 * own process with its outbox worker delivering a real, VAPID-signed Web Push wake for
 * every session to a push service on loopback; its CPU time is read from /proc.
 *
 * Two phases per database:
 * - saturation: BENCH_CONCURRENCY citizens sign in back to back for BENCH_DURATION seconds:
 *   `per_s`, and `per_core_per_s` (sessions per second per core of CPU the service used);
 * - latency: sessions started at a fixed rate (BENCH_RATE, default half the saturation rate),
 *   the way real traffic arrives: `p50_ms`/`p99_ms` at `latency_at_per_s`.
 */
import { createECDH, generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import pg from 'pg';
import webpush from 'web-push';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient } from '../packages/client/src/index.ts';
import { MobileIdClient, privateKeyJwt } from '../packages/client/src/mobile-id-client.ts';
import { ClientRegistry } from '../packages/server/src/clients/index.ts';
import { openDatabase } from '../packages/server/src/platform/db/index.ts';
import { enrollCitizen } from '../packages/server/test/devices/enroll.ts';
import { SoftAuthenticator } from '../packages/server/test/support/soft-authenticator.ts';
import { checkUserVerification, userVerificationChallenge } from '../packages/server/src/devices/user-verification.ts';
import type { Device } from '../packages/server/src/devices/schema.ts';
import { verifyRegistrationResponse } from '@simplewebauthn/server';
import { verifyP256 } from '../packages/server/src/platform/p256.ts';
import { verifyEs256Assertion } from '../packages/server/src/openapi/es256-assertion.ts';
import { measureFloor } from './lib/floor.ts';
import { lightFetch } from './lib/light-fetch.ts';
import { phaseFigures, saturationThenLatency, type Citizen } from './lib/load.ts';
import { formatLine, percentile, POSTGRES_URL, postgresAnswers, scratchPostgres, serverSample, startBenchService } from './lib/service.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
/**
 * Seconds of saturation before the window is measured. The service is measured as it runs for
 * days, warm: for its first seconds V8 is still compiling its hot functions, on threads whose
 * CPU counts as the service's (perf, 2026-12-03: optimizing compiles were 6% of its CPU 5 to
 * 13 s after start, under 1% after 30 s), and a 2 s warm-up read 582 per core where 12 s read
 * 653 and 24 s 673; the floor, with less code to compile, 1,016, 1,129 and 1,108.
 */
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 15);
/** Citizens signing in at the same time in the saturation phase, each with their own phone. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Sessions per second offered in the latency phase (default: half the saturation rate). */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
/** BENCH_AUTH_PUSH=none leaves devices without a push target (the push fails over to SMS). */
const PUSH = process.env.BENCH_AUTH_PUSH !== 'none';
/**
 * BENCH_RP_AUTH=none starts sessions as an anonymous caller (development only; what this
 * benchmark measured before relying parties authenticated), for comparisons with older runs.
 */
const RP_AUTH = process.env.BENCH_RP_AUTH === 'none' ? 'none' : 'private_key_jwt';
/** BENCH_DB=sqlite or postgres runs one database only. */
const ONLY = process.env.BENCH_DB;
/**
 * What the relying party and the phones send their requests with (bench/lib/light-fetch.ts):
 * `light`, plain `node:http` (the default), or `undici`, Node's own `fetch`, whose CPU and
 * garbage on the load generator's side show up in the service's figures (see that file).
 */
const TRANSPORT: typeof fetch = process.env.BENCH_FETCH === 'undici' ? fetch : lightFetch;
/** The floor's HTTP front ends to measure, in order (bench/lib/floor-server.ts): Fastify, and none at all. */
const FLOOR_HTTP = (process.env.FLOOR_HTTP ?? 'fastify,bare').split(',');
const SLOW_MS = process.env.BENCH_SLOW_MS ? Number(process.env.BENCH_SLOW_MS) : undefined;
const CLIENT_ID = 'bench-portal';
const SERVICE = { serviceId: CLIENT_ID, serviceName: 'Bench portal' };
/** An unregistered service id, which only an anonymous (development) caller may name. */
const ANONYMOUS_SERVICE = { serviceId: 'bench.example.uz', serviceName: 'Bench portal' };

/**
 * A push service on loopback: each device registers a Web Push subscription pointing here, so
 * the service's outbox delivers real (VAPID-signed) wakes, as it would to a
 * browser vendor, instead of failing over to SMS.
 */
async function pushSink(): Promise<{ server: Server; url: string; received: () => number }> {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}`, received: () => received };
}

function webPushSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}


interface Phone extends Citizen {
  readonly pinfl: string;
  readonly device: DeviceClient;
}

async function measure(db: 'sqlite' | 'postgres', databaseUrl?: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-bench-auth-'));
  const sink = await pushSink();
  const service = await startBenchService({
    ...(databaseUrl ? { databaseUrl } : {}),
    // The loopback push service is listed like a vendor's (push endpoints are allow-listed).
    env: { TASDIQ_DATA_DIR: dataDir, TASDIQ_WEBPUSH_HOSTS: '127.0.0.1' },
  });
  const database = openDatabase({ databaseUrl, dataDir });
  try {
    const baseUrl = service.baseUrl;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    await new ClientRegistry(database.db, Date.now).register({
      client_id: CLIENT_ID,
      name: { 'uz-Latn': 'Bench portal', 'uz-Cyrl': 'Бенч портал', ru: 'Тестовый портал', en: 'Bench portal' },
      redirect_uris: ['https://bench.example.uz/callback'],
      jwks: { keys: [{ ...jwk, use: 'sig', alg: 'ES256', kid: 'bench-1' }] },
      scopes: ['openid'],
      acr_values: ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'],
      contacts: ['bench@example.uz'],
    });
    const phones: Phone[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const citizen = await enrollCitizen(database.db, baseUrl);
      const device = await DeviceClient.activate(baseUrl, await citizen.activationCode(), { fetch: TRANSPORT });
      if (PUSH) await device.request('PUT', '/api/v1/device/push-target', { kind: 'webpush', subscription: webPushSubscription(`${sink.url}/${device.deviceId}`) });
      phones.push({ pinfl: citizen.pinfl, device, busy: false });
    }
    const rp = new MobileIdClient({ baseUrl, fetch: TRANSPORT, ...(RP_AUTH === 'none' ? {} : { clientAssertion: privateKeyJwt({ clientId: CLIENT_ID, privateKey, publicUrl: baseUrl, kid: 'bench-1' }) }) });
    /** Per step of a session (start, fetch, confirm, result), in the latency phase. */
    const steps: Record<'start' | 'fetch' | 'confirm' | 'result', number[]> = { start: [], fetch: [], confirm: [], result: [] };
    const session = async (phone: Phone, timed = false): Promise<number> => {
      const t0 = performance.now();
      const started = await rp.startAuthentication({ ...(RP_AUTH === 'none' ? ANONYMOUS_SERVICE : SERVICE), pinfl: phone.pinfl });
      const t1 = performance.now();
      const request = await phone.device.pending();
      if (!request) throw new Error('no pending request');
      const t2 = performance.now();
      await phone.device.confirm(request, started.verificationCode!);
      const t3 = performance.now();
      const result = await rp.getSession(started, { waitMs: 5000 });
      if (result.result !== 'OK') throw new Error(`result ${result.result}`);
      const t4 = performance.now();
      if (timed) {
        // BENCH_SLOW_MS=N prints each timed session slower than N ms, when it began and its steps:
        // sessions slow together point at a pause of one process, not at one step.
        if (SLOW_MS !== undefined && t4 - t0 > SLOW_MS) console.error(`# slow session at ${new Date(performance.timeOrigin + t0).toISOString()}: ${(t4 - t0).toFixed(1)} ms (start ${(t1 - t0).toFixed(1)}, fetch ${(t2 - t1).toFixed(1)}, confirm ${(t3 - t2).toFixed(1)}, result ${(t4 - t3).toFixed(1)})`);
        steps.start.push(t1 - t0);
        steps.fetch.push(t2 - t1);
        steps.confirm.push(t3 - t2);
        steps.result.push(t4 - t3);
      }
      return t4 - t0;
    };
    let serverBefore = new Map<string, { sum: number; count: number }>();
    // One scrape before anything is timed. The first request of a kind the service has not
    // seen (here its metrics) gives Fastify's requests and replies new shapes, and V8 then
    // throws away the optimized code of every hot function that handles them: about 100 ms of
    // recompiling. Made during a timed phase, that scrape was a burst of slow sessions.
    await serverSample(baseUrl);
    const phases = await saturationThenLatency(phones, session, {
      label: 'auth bench',
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      rate: RATE,
      servicePid: service.child.pid!,
      databaseUrl,
      pushesReceived: sink.received,
      // This scrape also restarts the loop-delay histogram the one after the phase reads.
      beforeLatency: async () => (serverBefore = (await serverSample(baseUrl)).routes),
    });
    const figures = phaseFigures(phases);
    for (const times of Object.values(steps)) times.sort((a, b) => a - b);
    const stepP50 = (name: keyof typeof steps) => percentile(steps[name], 50);
    const stepP99 = (name: keyof typeof steps) => percentile(steps[name], 99);
    // The same steps as the service timed them (mean, from its own histogram): the rest of a
    // step's time is the client's (signing, HTTP) and the loopback's.
    const { routes: serverAfter, loopDelayP99Ms, loopDelayMaxMs } = await serverSample(baseUrl);
    const serverMs = (route: string) => {
      const after = serverAfter.get(route);
      const before = serverBefore.get(route) ?? { sum: 0, count: 0 };
      return after && after.count > before.count ? ((after.sum - before.sum) / (after.count - before.count)) * 1000 : 0;
    };

    console.log(
      formatLine('auth', {
        ...figures.headline,
        // Where a session's time goes at that rate, as its caller sees it (client work included).
        start_p50_ms: stepP50('start'),
        fetch_p50_ms: stepP50('fetch'),
        confirm_p50_ms: stepP50('confirm'),
        result_p50_ms: stepP50('result'),
        start_p99_ms: stepP99('start'),
        fetch_p99_ms: stepP99('fetch'),
        confirm_p99_ms: stepP99('confirm'),
        result_p99_ms: stepP99('result'),
        server_start_ms: serverMs('POST /api/v1/auth/sessions'),
        server_fetch_ms: serverMs('GET /api/v1/device/requests/pending'),
        server_confirm_ms: serverMs('POST /api/v1/device/requests/:id/confirm'),
        // How late the service's event loop ran its work at that rate (its own queueing, GC).
        loop_delay_p99_ms: loopDelayP99Ms,
        loop_delay_max_ms: loopDelayMaxMs,
        saturated_p50_ms: percentile(phases.saturated, 50),
        saturated_p99_ms: percentile(phases.saturated, 99),
        ...figures.counts,
        concurrency: CONCURRENCY,
        push: PUSH ? 'webpush' : 'none',
        rp_auth: RP_AUTH,
        ...figures.cpu,
        db,
      }),
    );
  } finally {
    sink.server.close();
    await database.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Microseconds per call of `f`, after a warm-up (one core, this process). */
async function perCallUs(n: number, f: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return ((performance.now() - t0) * 1000) / n;
}

/**
 * What a sign-in cannot do without, measured on this machine in this run: the three P-256
 * verifications of the device's signatures, the relying party's ES256 client assertion and a
 * database round trip; what the browser app's confirmation adds, the verification of its passkey
 * assertion (user verification); and what an encrypted wake would cost (RFC 8291, by the
 * `web-push` package), which the empty Web Push wake spares. It tells how far the sessions per
 * core above are from the floor the cryptography and the network set.
 */
async function unavoidableCosts(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(600, 'x');
  const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  // As the service verifies a device's signature (verifyP256), and as Node's options form does.
  const p256 = await perCallUs(2000, () => verifyP256(publicKey, message, signature.toString('base64url')));
  const p256Options = await perCallUs(2000, () => verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('x').setSubject('x').setAudience('y').setIssuedAt().setExpirationTime('60s').setJti(randomUUID()).sign(privateKey);
  // jose (WebCrypto) against the synchronous check session starts use (es256-assertion.ts).
  const jwtUs = await perCallUs(1000, () => jwtVerify(jwt, publicKey, { issuer: 'x', audience: 'y' }));
  const rules = { issuer: 'x', subject: 'x', audience: 'y', requiredClaims: ['exp', 'iat', 'jti'], maxTokenAgeS: 60, clockToleranceS: 5 };
  const assertionUs = await perCallUs(1000, () => {
    if (!verifyEs256Assertion(jwt, publicKey, { ...rules, now: Date.now() })) throw new Error('the assertion did not check');
  });
  const subscription = webPushSubscription('http://127.0.0.1:9/x');
  // What every sign-in would pay if its wake carried a payload (the service sends an empty one).
  const pushPackageUs = await perCallUs(1000, () => webpush.encrypt(subscription.keys.p256dh, subscription.keys.auth, '{"v":1,"type":"wake"}', 'aes128gcm'));
  // The browser app's confirmation also carries a passkey assertion the server verifies.
  const origin = 'https://id.tasdiq.example';
  const phone = new SoftAuthenticator(origin);
  const challenge = randomBytes(32).toString('base64url');
  const { registrationInfo } = await verifyRegistrationResponse({
    response: phone.create({ challenge, rp: { name: 'Tasdiq' }, user: { id: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'Tasdiq', displayName: 'Tasdiq' } }) as never,
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: 'id.tasdiq.example',
  });
  const device = { uv_credential_id: registrationInfo!.credential.id, uv_public_key: Buffer.from(registrationInfo!.credential.publicKey).toString('base64url') } as Device;
  const signingInput = 'x'.repeat(400);
  const assertion = phone.get({ challenge: userVerificationChallenge(signingInput) }) as never;
  const party = { id: 'id.tasdiq.example', origin };
  const passkeyUs = await perCallUs(1000, () => checkUserVerification(device, assertion, signingInput, () => party));
  let pgUs: number | string = 'n/a';
  if (await postgresAnswers()) {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    pgUs = await perCallUs(1000, () => pool.query('select $1::text as x', ['x']));
    await pool.end();
  }
  console.log(
    formatLine('auth_costs', { p256_verify_us: p256, p256_verify_options_form_us: p256Options, es256_jwt_verify_us: jwtUs, es256_assertion_sync_us: assertionUs, webpush_encrypt_spared_us: pushPackageUs, passkey_assertion_verify_us: passkeyUs, pg_round_trip_us: pgUs, per_session_crypto_us: 3 * p256 + assertionUs }),
  );
}

export default async function run(): Promise<void> {
  await unavoidableCosts();
  if (ONLY !== 'postgres' && process.env.BENCH_FLOOR !== 'only') await measure('sqlite');
  if (ONLY === 'sqlite') return;
  if (await postgresAnswers()) {
    const scratch = await scratchPostgres('tasdiq_bench_auth');
    try {
      if (process.env.BENCH_FLOOR !== 'only') await measure('postgres', scratch.url);
      // The peer in the same run: the least the stack must do for a sign-in (bench/lib/floor-server.ts).
      if (process.env.BENCH_FLOOR !== 'none') {
        const sink = await pushSink();
        try {
          for (const http of FLOOR_HTTP) {
            const floor = await measureFloor({ fetch: TRANSPORT, http, databaseUrl: scratch.url, pushUrl: sink.url, pushesReceived: sink.received, concurrency: CONCURRENCY, durationS: DURATION_S, warmupS: WARMUP_S, ...(RATE ? { rate: RATE } : {}) });
            console.log(formatLine('auth_floor', { ...floor, http, db: 'postgres' }));
          }
        } finally {
          sink.server.close();
        }
      }
    } finally {
      await scratch.drop();
    }
  } else {
    console.log('# auth: PostgreSQL not reachable; skipped db=postgres');
  }
}
