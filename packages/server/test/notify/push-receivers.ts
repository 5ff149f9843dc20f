import { createECDH, createPublicKey, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { jwtVerify, type KeyObject } from 'jose';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function listen(server: Server | Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export interface ReceivedPush {
  readonly headers: IncomingMessage['headers'];
  readonly vapidClaims: Record<string, unknown>;
  /** The subscription path it was sent to (`/push/sub-1`, ...). */
  readonly path: string;
}

/**
 * A push service plus browser in one: issues a subscription (P-256 key, auth secret, as a
 * browser's has), and for each push checks the VAPID signature and audience, and that the wake
 * is empty: a payload would have to be encrypted, and Tasdiq's wakes carry none.
 */
export class WebPushReceiver {
  readonly received: ReceivedPush[] = [];
  readonly errors: string[] = [];
  status = 201;
  /** Hold each answer this long (a slow push service). */
  delayMs = 0;
  /** Answer every push with a redirect here instead (a push service must not redirect). */
  redirectTo: string | undefined;
  /** Every request that reached this receiver, decryptable or not. */
  requests = 0;
  readonly #server: Server;
  readonly #ecdh = createECDH('prime256v1');
  readonly #auth = randomBytes(16);
  #port = 0;

  private constructor() {
    this.#ecdh.generateKeys();
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(): Promise<WebPushReceiver> {
    const r = new WebPushReceiver();
    r.#port = await listen(r.#server);
    return r;
  }

  get subscription() {
    return this.subscriptionFor(1);
  }

  /** Another subscription of the same browser (same keys, its own endpoint path). */
  subscriptionFor(n: number) {
    return {
      endpoint: `http://127.0.0.1:${this.#port}/push/sub-${n}`,
      keys: { p256dh: this.#ecdh.getPublicKey().toString('base64url'), auth: this.#auth.toString('base64url') },
    };
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    this.requests += 1;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.redirectTo) {
      res.writeHead(307, { location: this.redirectTo }).end();
      return;
    }
    try {
      const m = /^vapid t=([^,]+),\s*k=(.+)$/.exec(req.headers.authorization ?? '');
      if (!m) throw new Error('no VAPID authorization');
      const raw = Buffer.from(m[2]!, 'base64url');
      const key = createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
        format: 'jwk',
      });
      const { payload } = await jwtVerify(m[1]!, key as unknown as KeyObject, { audience: `http://127.0.0.1:${this.#port}`, algorithms: ['ES256'] });
      if (body.length > 0 || req.headers['content-encoding'] !== undefined) throw new Error(`a wake with a ${body.length}-byte payload`);
      this.received.push({ headers: req.headers, vapidClaims: payload, path: req.url ?? '' });
      res.writeHead(this.status, { location: `/msg/${this.received.length}` }).end();
    } catch (error) {
      this.errors.push((error as Error).message);
      res.writeHead(400).end();
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** FCM HTTP v1 and Google's token endpoint on loopback; checks the service-account assertion. */
export class FcmServer {
  readonly sent: Array<{ message: { token: string; data: Record<string, string> } }> = [];
  readonly errors: string[] = [];
  unregistered = new Set<string>();
  /** Access tokens issued so far (`at-1`, `at-2`, ...). */
  tokensIssued = 0;
  /** Access tokens no longer accepted (revoked before they expire): answered 401. */
  readonly revoked = new Set<string>();
  /** Message requests answered 401 because of their access token. */
  rejected = 0;
  readonly #server: Server;
  readonly #publicKey: KeyObject;
  #port = 0;

  private constructor(publicKey: KeyObject) {
    this.#publicKey = publicKey;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(publicKey: KeyObject): Promise<FcmServer> {
    const s = new FcmServer(publicKey);
    s.#port = await listen(s.#server);
    return s;
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString();
    try {
      if (req.url === '/token') {
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('bad grant');
        const { payload } = await jwtVerify(form.get('assertion')!, this.#publicKey, { audience: `${this.base}/token`, issuer: 'tasdiq@test.iam.gserviceaccount.com' });
        if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('bad scope');
        this.tokensIssued += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `at-${this.tokensIssued}`, expires_in: 3600 }));
        return;
      }
      if (req.url !== '/v1/projects/tasdiq-test/messages:send') throw new Error(`unexpected ${req.url}`);
      const token = /^Bearer (at-(\d+))$/.exec(req.headers.authorization ?? '');
      if (!token || Number(token[2]) > this.tokensIssued || Number(token[2]) < 1) throw new Error('unknown access token');
      if (this.revoked.has(token[1]!)) {
        this.rejected += 1;
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { status: 'UNAUTHENTICATED' } }));
        return;
      }
      const parsed = JSON.parse(body) as FcmServer['sent'][number];
      if (this.unregistered.has(parsed.message.token)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { status: 'UNREGISTERED' } }));
        return;
      }
      this.sent.push(parsed);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: `projects/tasdiq-test/messages/m${this.sent.length}` }));
    } catch (error) {
      this.errors.push((error as Error).message);
      res.writeHead(401).end();
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** APNs on loopback over cleartext HTTP/2; checks the provider token and the headers. */
export class ApnsServer {
  readonly sent: Array<{ token: string; headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
  readonly errors: string[] = [];
  /** Device tokens answered with an error instead (`410 Unregistered`, `400 BadDeviceToken`). */
  readonly refuse = new Map<string, { status: number; reason: string }>();
  /** Device tokens whose next N pushes get no answer at all (APNs timing out). */
  readonly hang = new Map<string, number>();
  /** Provider tokens (JWTs) answered 403 ExpiredProviderToken. */
  readonly expired = new Set<string>();
  /** Every provider token presented, in order. */
  readonly providerTokens: string[] = [];
  readonly #server: Http2Server;
  readonly #publicKey: KeyObject;
  #port = 0;

  private constructor(publicKey: KeyObject) {
    this.#publicKey = publicKey;
    this.#server = createHttp2Server();
    this.#server.on('stream', (stream, headers) => {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('error', () => undefined);
      stream.on('data', (c: string) => (data += c));
      stream.on('end', () => {
        void (async () => {
          try {
            const auth = String(headers.authorization ?? '');
            const jwt = auth.replace(/^bearer /, '');
            this.providerTokens.push(jwt);
            const { protectedHeader } = await jwtVerify(jwt, this.#publicKey, { issuer: 'TEAM123456', algorithms: ['ES256'] });
            if (protectedHeader.kid !== 'KEY1234567') throw new Error('bad kid');
            if (headers['apns-topic'] !== 'uz.tasdiq.app') throw new Error('bad topic');
            const token = String(headers[':path']).replace('/3/device/', '');
            const hangs = this.hang.get(token) ?? 0;
            if (hangs > 0) {
              this.hang.set(token, hangs - 1);
              return; // never answered
            }
            if (this.expired.has(jwt)) {
              stream.respond({ ':status': 403, 'content-type': 'application/json' });
              stream.end(JSON.stringify({ reason: 'ExpiredProviderToken' }));
              return;
            }
            const refusal = this.refuse.get(token);
            if (refusal) {
              stream.respond({ ':status': refusal.status, 'content-type': 'application/json' });
              stream.end(JSON.stringify({ reason: refusal.reason }));
              return;
            }
            this.sent.push({ token, headers: { ...headers }, body: JSON.parse(data) as Record<string, unknown> });
            stream.respond({ ':status': 200, 'apns-id': `apns-${this.sent.length}` });
            stream.end();
          } catch (error) {
            this.errors.push((error as Error).message);
            stream.respond({ ':status': 403, 'content-type': 'application/json' });
            stream.end(JSON.stringify({ reason: 'InvalidProviderToken' }));
          }
        })();
      });
    });
  }

  static async start(publicKey: KeyObject): Promise<ApnsServer> {
    const s = new ApnsServer(publicKey);
    s.#port = await listen(s.#server);
    return s;
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
