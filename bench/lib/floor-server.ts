/**
 * The floor that `bench auth` compares Tasdiq with: the least a Node.js service on the same
 * stack (Fastify with JSON-schema validation, node-postgres with named statements, the P-256
 * and ES256 checks Tasdiq makes) must do for one complete Mobile-ID sign-in, and nothing else.
 * Per session: a client assertion verified and its `jti` written once; the citizen's device
 * looked up; the session, the used `jti` and an audit row written in one statement; an empty
 * push POSTed to a push service; the device's signed fetch (one P-256 check, its counter moved
 * and the pending session read in one statement); its signed confirmation (two P-256 checks,
 * counter, completion and audit row in one statement); the result read from memory by a long
 * poll. No i18n, no problem documents, no metrics, no rate limits, no certificates, no
 * cool-downs, no outbox: those are what the difference with Tasdiq's figure pays for.
 *
 * FLOOR_HTTP picks what serves those steps: `fastify` (the default: the stack Tasdiq runs on),
 * `bare` (`node:http` with hand-written routing and checks: what no HTTP framework costs) or
 * `platform` (Tasdiq's own HTTP layer, `platform/http.ts`: what that layer costs by itself).
 *
 * `node bench/lib/floor-server.ts` with FLOOR_DATABASE_URL, FLOOR_PUSH_URL and FLOOR_RP_JWK
 * set; prints `listening PORT` when it answers.
 */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyReply } from 'fastify';
import pg from 'pg';
// P-256 checked as Tasdiq checks it: the bare key and a DER signature, the cheapest form Node
// verifies; the client assertion too, synchronously, as Tasdiq checks an inline ES256 key's.
import { verifyP256 } from '../../packages/server/src/platform/p256.ts';
import { es256Header, importEs256Key, verifyEs256Assertion } from '../../packages/server/src/openapi/es256-assertion.ts';
import { keepPrepared, NamedStatementClient } from '../../packages/server/src/platform/db/named-statements.ts';

// Tasdiq's node-postgres client: registered texts run as named statements, described once.
const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10, Client: NamedStatementClient });
const pushUrl = new URL(process.env.FLOOR_PUSH_URL!);
const pushAgent = new Agent({ keepAlive: true, maxSockets: 16 });
const rpKey = importEs256Key(JSON.parse(process.env.FLOOR_RP_JWK!) as Record<string, unknown>)!;

// Each floor server starts from empty tables: a run measures one front end after another on the same database.
await pool.query(`
  drop table if exists floor_devices, floor_sessions, floor_used_jti, floor_audit;
  create table floor_devices (id text primary key, pinfl text unique not null, public_key text not null, counter bigint not null default 0);
  create table floor_sessions (id text primary key, device_id text not null, token_hash text not null, challenge text not null, state text not null, created_at bigint not null, completed_at bigint);
  create unique index floor_sessions_pending on floor_sessions (device_id) where state = 'pending';
  create table floor_used_jti (jti text primary key, expires_at bigint not null);
  create table floor_audit (id bigserial primary key, action text not null, subject text not null, at bigint not null, details jsonb not null);
`);

/** A statement as Tasdiq runs its hot ones: registered, on a connection taken for it alone. */
async function named<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  keepPrepared(text);
  const client = await pool.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    client.release();
  }
}
const sha256 = (text: string) => createHash('sha256').update(text).digest();
const keys = new Map<string, KeyObject>();
/** Live sessions by id (the challenge shown, the caller's token, the result and its waiter): the in-process state Tasdiq keeps too. */
const sessions = new Map<string, { challenge: string; tokenHash: string; result?: string; waiter?: () => void }>();

async function deviceKey(id: string): Promise<KeyObject | undefined> {
  let key = keys.get(id);
  if (!key) {
    const row = (await named<{ public_key: string }>('select public_key from floor_devices where id = $1', [id])).rows[0];
    if (!row) return undefined;
    key = createPublicKey({ key: JSON.parse(row.public_key), format: 'jwk' });
    keys.set(id, key);
  }
  return key;
}

function wake(deviceId: string): void {
  const push = request({ host: pushUrl.hostname, port: pushUrl.port, path: `/${deviceId}`, method: 'POST', agent: pushAgent, headers: { ttl: '60', urgency: 'high', topic: 'wake', 'content-length': 0 } }, (response) => response.resume());
  push.on('error', () => undefined);
  push.end();
}

/** What a step answers: a status and a JSON body (none for 204). */
interface Answer {
  status: number;
  body?: unknown;
}
const refused = (status: number, code: string): Answer => ({ status, body: { code } });
interface DeviceProof {
  deviceId: string;
  counter: number;
  signature: string;
}

async function startSession(pinfl: string, clientAssertion: string): Promise<Answer> {
  const payload = es256Header(clientAssertion) && verifyEs256Assertion(clientAssertion, rpKey, { issuer: 'floor-rp', subject: 'floor-rp', audience: 'floor/start', requiredClaims: ['jti', 'exp'], maxTokenAgeS: 60, clockToleranceS: 5, now: Date.now() });
  if (!payload) return refused(401, 'invalid_client');
  const device = (await named<{ id: string }>('select id from floor_devices where pinfl = $1', [pinfl])).rows[0];
  if (!device) return refused(404, 'not_activated');
  const id = randomBytes(16).toString('base64url');
  const token = randomBytes(32).toString('base64url');
  const challenge = randomBytes(32).toString('base64url');
  const tokenHash = sha256(token).toString('base64url');
  const now = Date.now();
  await named(
    `with s as (insert into floor_sessions (id, device_id, token_hash, challenge, state, created_at) values ($1, $2, $3, $4, 'pending', $5) returning id),
          j as (insert into floor_used_jti (jti, expires_at) values ($6, $7)),
          a as (insert into floor_audit (action, subject, at, details) values ('session_started', $8, $5, $9))
     select id from s`,
    [id, device.id, tokenHash, challenge, now, payload.jti, (payload.exp ?? 0) * 1000, pinfl, { sessionId: id }],
  );
  sessions.set(id, { challenge, tokenHash });
  wake(device.id);
  const code = sha256(challenge).readUInt16BE(30) % 10000;
  return { status: 200, body: { sessionId: id, token, verificationCode: String(code).padStart(4, '0') } };
}

async function pendingRequest({ deviceId, counter, signature }: DeviceProof): Promise<Answer> {
  const key = await deviceKey(deviceId);
  if (!key || !verifyP256(key, `GET /pending ${deviceId} ${counter}`, signature)) return refused(401, 'bad_signature');
  const row = (
    await named<{ id: string; challenge: string }>(
      `with c as (update floor_devices set counter = $2 where id = $1 and counter < $2 returning id)
       select s.id, s.challenge from c left join floor_sessions s on s.device_id = c.id and s.state = 'pending'`,
      [deviceId, counter],
    )
  ).rows[0];
  if (!row) return refused(409, 'replayed');
  return row.id ? { status: 200, body: { id: row.id, challenge: row.challenge } } : { status: 204 };
}

async function confirmSession(id: string, { deviceId, counter, signature }: DeviceProof, confirmation: { signature: string; code: string }): Promise<Answer> {
  const shown = sessions.get(id);
  const key = await deviceKey(deviceId);
  const body = JSON.stringify(confirmation);
  if (!key || !shown || !verifyP256(key, `POST /confirm/${id} ${deviceId} ${counter} ${sha256(body).toString('base64url')}`, signature)) return refused(401, 'bad_signature');
  if (!verifyP256(key, shown.challenge, confirmation.signature)) return refused(400, 'bad_challenge_signature');
  const now = Date.now();
  const done = await named(
    `with c as (update floor_devices set counter = $3 where id = $2 and counter < $3 returning id),
          s as (update floor_sessions set state = 'complete', completed_at = $4 where id = $1 and device_id = $2 and state = 'pending' and exists (select 1 from c) returning id),
          a as (insert into floor_audit (action, subject, at, details) select 'session_completed', $2, $4, $5 from s)
     select id from s`,
    [id, deviceId, counter, now, { sessionId: id, result: 'OK' }],
  );
  if (done.rowCount !== 1) return refused(409, 'not_pending');
  shown.result = 'OK';
  shown.waiter?.();
  return { status: 200, body: { ok: true } };
}

async function sessionResult(id: string, authorization: string | undefined): Promise<Answer> {
  const session = sessions.get(id);
  const tokenHash = sha256((authorization ?? '').replace(/^Bearer /, '')).toString('base64url');
  if (!session || session.tokenHash !== tokenHash) return refused(404, 'not_found');
  if (!session.result) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      session.waiter = () => (clearTimeout(timer), resolve());
    });
  }
  if (session.result) sessions.delete(id);
  return { status: 200, body: { state: session.result ? 'complete' : 'pending', result: session.result ?? null } };
}

const PINFL = /^[0-9]{14}$/;
const CODE = /^[0-9]{4}$/;
const COUNTER = /^[1-9][0-9]{0,14}$/;
const shortString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;

/** The device headers, checked as the Fastify schema checks them; undefined when they are not fit. */
function deviceProof(headers: Record<string, string | string[] | undefined>): DeviceProof | undefined {
  const [deviceId, counter, signature] = [headers['x-device'], headers['x-counter'], headers['x-signature']];
  if (!shortString(deviceId, 64) || typeof counter !== 'string' || !COUNTER.test(counter) || !shortString(signature, 200)) return undefined;
  return { deviceId, counter: Number(counter), signature };
}

/** FLOOR_HTTP=bare: `node:http` with the routes and checks written out, no framework. */
async function bareServer(): Promise<{ listen(): Promise<number>; close(): Promise<void> }> {
  const invalid = refused(400, 'validation_failed');
  const routes: Array<[method: string, pattern: RegExp, route: (request: IncomingMessage, body: unknown, id: string) => Promise<Answer>]> = [
    ['POST', /^\/start$/, async (_request, body) => {
      const { pinfl, client_assertion } = (body ?? {}) as Record<string, unknown>;
      return typeof pinfl === 'string' && PINFL.test(pinfl) && shortString(client_assertion, 4096) && Object.keys(body as object).length === 2 ? startSession(pinfl, client_assertion) : invalid;
    }],
    ['GET', /^\/pending$/, async (request) => {
      const proof = deviceProof(request.headers);
      return proof ? pendingRequest(proof) : invalid;
    }],
    ['POST', /^\/confirm\/([^/]{1,64})$/, async (request, body, id) => {
      const proof = deviceProof(request.headers);
      const { signature, code } = (body ?? {}) as Record<string, unknown>;
      return proof && shortString(signature, 200) && typeof code === 'string' && CODE.test(code) && Object.keys(body as object).length === 2 ? confirmSession(id, proof, { signature, code }) : invalid;
    }],
    ['GET', /^\/result\/([^/]{1,64})$/, async (request, _body, id) => sessionResult(id, request.headers.authorization)],
  ];
  const answer = (response: ServerResponse, { status, body }: Answer) => {
    if (body === undefined) return response.writeHead(status).end();
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    let step: ((body: unknown) => Promise<Answer>) | undefined;
    for (const [method, pattern, route] of routes) {
      const match = request.method === method ? pattern.exec(path) : null;
      if (match) {
        step = (body) => route(request, body, match[1] ?? '');
        break;
      }
    }
    if (!step) return answer(response, refused(404, 'not_found'));
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      let body: unknown;
      if (size > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(response, refused(400, 'malformed_json'));
        }
      }
      step(body).then(
        (result) => answer(response, result),
        () => answer(response, refused(500, 'internal')),
      );
    });
  });
  return {
    listen: () => new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port))),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** FLOOR_HTTP=fastify or platform: the same steps as Fastify routes with JSON-schema validation. */
async function fastifyServer(platform: boolean): Promise<{ listen(): Promise<number>; close(): Promise<void> }> {
  const app = platform
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
  const proofOf = (headers: DeviceHeaders): DeviceProof => ({ deviceId: headers['x-device'], counter: headers['x-counter'], signature: headers['x-signature'] });
  const send = (reply: FastifyReply, { status, body }: Answer) => reply.code(status).send(body);

  app.post<{ Body: { pinfl: string; client_assertion: string } }>(
    '/start',
    { schema: { body: { type: 'object', required: ['pinfl', 'client_assertion'], additionalProperties: false, properties: { pinfl: { type: 'string', pattern: '^[0-9]{14}$' }, client_assertion: { type: 'string', maxLength: 4096 } } } } },
    async (req, reply) => send(reply, await startSession(req.body.pinfl, req.body.client_assertion)),
  );
  app.get<{ Headers: DeviceHeaders }>('/pending', { schema: { headers: deviceHeaders } }, async (req, reply) => send(reply, await pendingRequest(proofOf(req.headers))));
  app.post<{ Headers: DeviceHeaders; Params: { id: string }; Body: { signature: string; code: string } }>(
    '/confirm/:id',
    {
      schema: {
        headers: deviceHeaders,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        body: { type: 'object', required: ['signature', 'code'], additionalProperties: false, properties: { signature: { type: 'string', maxLength: 200 }, code: { type: 'string', pattern: '^[0-9]{4}$' } } },
      },
    },
    async (req, reply) => send(reply, await confirmSession(req.params.id, proofOf(req.headers), req.body)),
  );
  app.get<{ Params: { id: string } }>('/result/:id', async (req, reply) => send(reply, await sessionResult(req.params.id, req.headers.authorization)));
  return {
    listen: async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      return (app.server.address() as { port: number }).port;
    },
    close: () => app.close(),
  };
}

const http = process.env.FLOOR_HTTP ?? 'fastify';
if (!['fastify', 'bare', 'platform'].includes(http)) throw new Error(`FLOOR_HTTP=${http}: fastify, bare or platform`);
const server = http === 'bare' ? await bareServer() : await fastifyServer(http === 'platform');
console.log(`listening ${await server.listen()}`);
process.on('SIGTERM', () => void server.close().then(() => pool.end()).then(() => process.exit(0)));
