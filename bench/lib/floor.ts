/**
 * Drives the floor server (floor-server.ts) the way `bench auth` drives Tasdiq: the same
 * citizens, concurrency, phases and CPU accounting, on the same PostgreSQL database, in the
 * same run. Its `per_core_per_s` is what the stack itself allows for one sign-in on this
 * machine; Tasdiq's figure divided by it is the share the product's own work leaves.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SignJWT } from 'jose';
import pg from 'pg';
import { phaseFigures, saturationThenLatency, type Citizen } from './load.ts';
import { announced, terminated } from './service.ts';

interface FloorPhone extends Citizen {
  readonly pinfl: string;
  readonly deviceId: string;
  readonly key: KeyObject;
  counter: number;
}

const SERVER = resolve(import.meta.dirname, 'floor-server.ts');

async function startFloorServer(env: Record<string, string>): Promise<{ baseUrl: string; pid: number; stop(): Promise<void> }> {
  // BENCH_PROFILE and BENCH_SERVICE_FLAGS apply to the floor as to the service: their profiles compare.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const flags = process.env.BENCH_SERVICE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...flags, SERVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const [, port] = await announced(child, /listening (\d+)/, 'floor server', 30_000);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => terminated(child),
  };
}

const signed = (key: KeyObject, data: string) => sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');

async function call<T>(transport: typeof fetch, url: string, init: RequestInit = {}): Promise<T> {
  const response = await transport(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export async function measureFloor(options: { fetch: typeof fetch; http: string; databaseUrl: string; pushUrl: string; pushesReceived: () => number; concurrency: number; durationS: number; warmupS: number; rate?: number }): Promise<Record<string, number>> {
  const rp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = await startFloorServer({ FLOOR_HTTP: options.http, FLOOR_DATABASE_URL: options.databaseUrl, FLOOR_PUSH_URL: options.pushUrl, FLOOR_RP_JWK: JSON.stringify(rp.publicKey.export({ format: 'jwk' })) });
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    const phones: FloorPhone[] = [];
    for (let i = 0; i < options.concurrency; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const phone = { pinfl: String(40000000000000 + i), deviceId: `dev_${randomBytes(12).toString('base64url')}`, key: privateKey, counter: 0, busy: false };
      await db.query('insert into floor_devices (id, pinfl, public_key) values ($1, $2, $3)', [phone.deviceId, phone.pinfl, JSON.stringify(publicKey.export({ format: 'jwk' }))]);
      phones.push(phone);
    }
    const base = server.baseUrl;
    const deviceHeaders = (phone: FloorPhone, data: (counter: number) => string) => {
      const counter = ++phone.counter;
      return { 'x-device': phone.deviceId, 'x-counter': String(counter), 'x-signature': signed(phone.key, data(counter)) };
    };
    const session = async (phone: FloorPhone): Promise<number> => {
      const t0 = performance.now();
      const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuer('floor-rp').setSubject('floor-rp').setAudience('floor/start').setIssuedAt().setExpirationTime('60s').setJti(randomUUID()).sign(rp.privateKey);
      const started = await call<{ sessionId: string; token: string; verificationCode: string }>(options.fetch, `${base}/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pinfl: phone.pinfl, client_assertion: assertion }) });
      const pending = await call<{ id: string; challenge: string }>(options.fetch, `${base}/pending`, { headers: deviceHeaders(phone, (n) => `GET /pending ${phone.deviceId} ${n}`) });
      const body = JSON.stringify({ signature: signed(phone.key, pending.challenge), code: started.verificationCode });
      const digest = createHash('sha256').update(body).digest('base64url');
      await call(options.fetch, `${base}/confirm/${pending.id}`, { method: 'POST', headers: { 'content-type': 'application/json', ...deviceHeaders(phone, (n) => `POST /confirm/${pending.id} ${phone.deviceId} ${n} ${digest}`) }, body });
      const result = await call<{ result: string | null }>(options.fetch, `${base}/result/${started.sessionId}`, { headers: { authorization: `Bearer ${started.token}` } });
      if (result.result !== 'OK') throw new Error(`result ${result.result}`);
      return performance.now() - t0;
    };
    const phases = await saturationThenLatency(phones, session, {
      label: 'auth floor',
      warmupS: options.warmupS,
      durationS: options.durationS,
      rate: options.rate,
      servicePid: server.pid,
      databaseUrl: options.databaseUrl,
      pushesReceived: options.pushesReceived,
    });
    const figures = phaseFigures(phases);
    return { ...figures.headline, ...figures.counts, ...figures.cpu };
  } finally {
    await db.end();
    await server.stop();
  }
}
