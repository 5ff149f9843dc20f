/**
 * The floor that `bench auth` compares Tasdiq with: the least a Node.js service on the same
 * stack (Fastify with JSON-schema validation, node-postgres with named statements, jose) must do
 * for one complete Mobile-ID sign-in, and nothing else. Per session: a client assertion verified
 * and its `jti` written once; the citizen's device looked up; the session, the used `jti` and an
 * audit row written in one statement; an empty push POSTed to a push service; the device's
 * signed fetch (one P-256 check, its counter moved and the pending session read in one
 * statement); its signed confirmation (two P-256 checks, counter, completion and audit row in
 * one statement); the result read from memory by a long poll. No i18n, no problem documents, no
 * metrics, no rate limits, no certificates, no cool-downs, no outbox: those are what the
 * difference with Tasdiq's figure pays for.
 *
 * `node bench/lib/floor-server.ts` with FLOOR_DATABASE_URL, FLOOR_PUSH_URL and FLOOR_RP_JWK
 * set; prints `listening PORT` when it answers.
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:http';
import Fastify from 'fastify';
import { importJWK, jwtVerify } from 'jose';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10 });
const pushUrl = new URL(process.env.FLOOR_PUSH_URL!);
const pushAgent = new Agent({ keepAlive: true, maxSockets: 16 });
const rpKey = await importJWK(JSON.parse(process.env.FLOOR_RP_JWK!), 'ES256');

await pool.query(`
  create table if not exists floor_devices (id text primary key, pinfl text unique not null, public_key text not null, counter bigint not null default 0);
  create table if not exists floor_sessions (id text primary key, device_id text not null, token_hash text not null, challenge text not null, state text not null, created_at bigint not null, completed_at bigint);
  create unique index if not exists floor_sessions_pending on floor_sessions (device_id) where state = 'pending';
  create table if not exists floor_used_jti (jti text primary key, expires_at bigint not null);
  create table if not exists floor_audit (id bigserial primary key, action text not null, subject text not null, at bigint not null, details jsonb not null);
`);

const named = <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) => pool.query<R>({ name, text, values });
const sha256 = (text: string) => createHash('sha256').update(text).digest();
const keys = new Map<string, KeyObject>();
/** Live sessions by id (the challenge shown, the caller's token, the result and its waiter): the in-process state Tasdiq keeps too. */
const sessions = new Map<string, { challenge: string; tokenHash: string; result?: string; waiter?: () => void }>();

async function deviceKey(id: string): Promise<KeyObject | undefined> {
  let key = keys.get(id);
  if (!key) {
    const row = (await named<{ public_key: string }>('key', 'select public_key from floor_devices where id = $1', [id])).rows[0];
    if (!row) return undefined;
    key = createPublicKey({ key: JSON.parse(row.public_key), format: 'jwk' });
    keys.set(id, key);
  }
  return key;
}

function signedBy(key: KeyObject, data: string, signature: string): boolean {
  return verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
}

function wake(deviceId: string): void {
  const push = request({ host: pushUrl.hostname, port: pushUrl.port, path: `/${deviceId}`, method: 'POST', agent: pushAgent, headers: { ttl: '60', urgency: 'high', topic: 'wake', 'content-length': 0 } }, (response) => response.resume());
  push.on('error', () => undefined);
  push.end();
}

// FLOOR_PLATFORM=1 (an experiment): the same routes on Tasdiq's HTTP layer, to price it alone.
const app = process.env.FLOOR_PLATFORM === '1'
  ? await (await import('../../packages/server/src/platform/http.ts')).createHttpServer({
      logger: (await import('../../packages/server/src/platform/logger.ts')).createLogger('warn'),
      metrics: (await import('../../packages/server/src/platform/metrics.ts')).createMetrics(),
      rateLimitPerMinute: 10_000_000,
    })
  : Fastify({ logger: false });
const deviceHeaders = {
  type: 'object',
  required: ['x-device', 'x-counter', 'x-signature'],
  properties: { 'x-device': { type: 'string', maxLength: 64 }, 'x-counter': { type: 'integer', minimum: 1 }, 'x-signature': { type: 'string', maxLength: 200 } },
} as const;
type DeviceHeaders = { 'x-device': string; 'x-counter': number; 'x-signature': string };

app.post<{ Body: { pinfl: string; client_assertion: string } }>(
  '/start',
  { schema: { body: { type: 'object', required: ['pinfl', 'client_assertion'], additionalProperties: false, properties: { pinfl: { type: 'string', pattern: '^[0-9]{14}$' }, client_assertion: { type: 'string', maxLength: 4096 } } } } },
  async (req, reply) => {
    const { payload } = await jwtVerify(req.body.client_assertion, rpKey, { issuer: 'floor-rp', subject: 'floor-rp', audience: 'floor/start', algorithms: ['ES256'], requiredClaims: ['jti', 'exp'] }).catch(() => ({ payload: undefined }));
    if (!payload) return reply.code(401).send({ code: 'invalid_client' });
    const device = (await named<{ id: string }>('device', 'select id from floor_devices where pinfl = $1', [req.body.pinfl])).rows[0];
    if (!device) return reply.code(404).send({ code: 'not_activated' });
    const id = randomBytes(16).toString('base64url');
    const token = randomBytes(32).toString('base64url');
    const challenge = randomBytes(32).toString('base64url');
    const tokenHash = sha256(token).toString('base64url');
    const now = Date.now();
    await named(
      'start',
      `with s as (insert into floor_sessions (id, device_id, token_hash, challenge, state, created_at) values ($1, $2, $3, $4, 'pending', $5) returning id),
            j as (insert into floor_used_jti (jti, expires_at) values ($6, $7)),
            a as (insert into floor_audit (action, subject, at, details) values ('session_started', $8, $5, $9))
       select id from s`,
      [id, device.id, tokenHash, challenge, now, payload.jti, (payload.exp ?? 0) * 1000, req.body.pinfl, { sessionId: id }],
    );
    sessions.set(id, { challenge, tokenHash });
    wake(device.id);
    const code = sha256(challenge).readUInt16BE(30) % 10000;
    return { sessionId: id, token, verificationCode: String(code).padStart(4, '0') };
  },
);

app.get<{ Headers: DeviceHeaders }>('/pending', { schema: { headers: deviceHeaders } }, async (req, reply) => {
  const deviceId = req.headers['x-device'];
  const counter = req.headers['x-counter'];
  const key = await deviceKey(deviceId);
  if (!key || !signedBy(key, `GET /pending ${deviceId} ${counter}`, req.headers['x-signature'])) return reply.code(401).send({ code: 'bad_signature' });
  const row = (
    await named<{ id: string; challenge: string }>(
      'fetch',
      `with c as (update floor_devices set counter = $2 where id = $1 and counter < $2 returning id)
       select s.id, s.challenge from c left join floor_sessions s on s.device_id = c.id and s.state = 'pending'`,
      [deviceId, counter],
    )
  ).rows[0];
  if (!row) return reply.code(409).send({ code: 'replayed' });
  return row.id ? { id: row.id, challenge: row.challenge } : reply.code(204).send();
});

app.post<{ Headers: DeviceHeaders; Params: { id: string }; Body: { signature: string; code: string } }>(
  '/confirm/:id',
  {
    schema: {
      headers: deviceHeaders,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
      body: { type: 'object', required: ['signature', 'code'], additionalProperties: false, properties: { signature: { type: 'string', maxLength: 200 }, code: { type: 'string', pattern: '^[0-9]{4}$' } } },
    },
  },
  async (req, reply) => {
    const deviceId = req.headers['x-device'];
    const counter = req.headers['x-counter'];
    const shown = sessions.get(req.params.id);
    const key = await deviceKey(deviceId);
    const body = JSON.stringify(req.body);
    if (!key || !shown || !signedBy(key, `POST /confirm/${req.params.id} ${deviceId} ${counter} ${sha256(body).toString('base64url')}`, req.headers['x-signature'])) return reply.code(401).send({ code: 'bad_signature' });
    if (!signedBy(key, shown.challenge, req.body.signature)) return reply.code(400).send({ code: 'bad_challenge_signature' });
    const now = Date.now();
    const done = await named(
      'complete',
      `with c as (update floor_devices set counter = $3 where id = $2 and counter < $3 returning id),
            s as (update floor_sessions set state = 'complete', completed_at = $4 where id = $1 and device_id = $2 and state = 'pending' and exists (select 1 from c) returning id),
            a as (insert into floor_audit (action, subject, at, details) select 'session_completed', $2, $4, $5 from s)
       select id from s`,
      [req.params.id, deviceId, counter, now, { sessionId: req.params.id, result: 'OK' }],
    );
    if (done.rowCount !== 1) return reply.code(409).send({ code: 'not_pending' });
    shown.result = 'OK';
    shown.waiter?.();
    return { ok: true };
  },
);

app.get<{ Params: { id: string }; Headers: { authorization?: string } }>('/result/:id', async (req, reply) => {
  const session = sessions.get(req.params.id);
  const tokenHash = sha256((req.headers.authorization ?? '').replace(/^Bearer /, '')).toString('base64url');
  if (!session || session.tokenHash !== tokenHash) return reply.code(404).send({ code: 'not_found' });
  if (!session.result) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      session.waiter = () => (clearTimeout(timer), resolve());
    });
  }
  if (session.result) sessions.delete(req.params.id);
  return { state: session.result ? 'complete' : 'pending', result: session.result ?? null };
});

await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${(app.server.address() as { port: number }).port}`);
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
