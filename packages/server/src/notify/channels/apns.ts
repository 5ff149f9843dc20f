import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import type { PushOutcome, PushProvider, WakePayload } from './push.ts';
import { pushHttpOutcome } from './push.ts';

export interface ApnsConfig {
  /** https://api.push.apple.com (or the sandbox); tests point it at a local HTTP/2 server. */
  readonly endpoint: string;
  readonly teamId: string;
  readonly keyId: string;
  /** The .p8 signing key (PKCS#8 PEM, P-256). */
  readonly privateKey: string;
  /** The app's bundle id. */
  readonly topic: string;
  /** How long to wait for APNs to answer one push (10 s). */
  readonly timeoutMs?: number;
}

/** Apple Push Notification service over HTTP/2 with token (JWT, ES256) authentication. */
export class ApnsProvider implements PushProvider {
  readonly #config: ApnsConfig;
  #key: CryptoKey | undefined;
  #jwt: { value: string; until: number } | undefined;
  #session: ClientHttp2Session | undefined;

  constructor(config: ApnsConfig) {
    this.#config = config;
  }

  async #bearer(): Promise<string> {
    const now = Date.now();
    // Apple refuses tokens older than an hour and throttles ones renewed more often than
    // every 20 minutes; 40 minutes sits between.
    if (this.#jwt && this.#jwt.until > now) return this.#jwt.value;
    this.#key ??= await importPKCS8(this.#config.privateKey, 'ES256');
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.#config.keyId })
      .setIssuer(this.#config.teamId)
      .setIssuedAt()
      .sign(this.#key);
    this.#jwt = { value, until: now + 40 * 60_000 };
    return value;
  }

  #connection(): ClientHttp2Session {
    if (this.#session && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const session = connect(this.#config.endpoint);
    session.on('error', () => session.destroy());
    session.on('goaway', () => session.close());
    session.unref();
    this.#session = session;
    return session;
  }

  async send(address: string, payload: WakePayload): Promise<PushOutcome> {
    const body = JSON.stringify({
      // A localized generic alert: the words live in the app, the details come from the server.
      aps: { alert: { 'loc-key': 'TASDIQ_REQUEST' }, 'mutable-content': 1, sound: 'default' },
      ...payload,
    });
    let answer = await this.#post(address, body);
    if (answer.status === 403 && answer.reason === 'ExpiredProviderToken') {
      // Apple thinks our token too old (clock skew, a long-lived process): sign a new one and
      // try again at once rather than failing the push.
      this.#jwt = undefined;
      answer = await this.#post(address, body);
    }
    const { status, headers, reason } = answer;
    if (status === 200) return { ok: true, id: typeof headers['apns-id'] === 'string' ? headers['apns-id'] : undefined };
    if (status === 403 && reason === 'ExpiredProviderToken') {
      this.#jwt = undefined;
      return { ok: false, gone: false, permanent: false, error: 'apns answered 403 ExpiredProviderToken' };
    }
    const gone = status === 410 || reason === 'BadDeviceToken' || reason === 'Unregistered';
    return pushHttpOutcome('apns', status, gone ? [status] : [], reason);
  }

  /** One POST; rejects (a transient failure) when APNs does not answer in time or resets the stream. */
  async #post(address: string, body: string): Promise<{ status: number; headers: Record<string, unknown>; reason: string }> {
    const bearer = await this.#bearer();
    const timeoutMs = this.#config.timeoutMs ?? 10_000;
    const { status, headers, text } = await new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const request = this.#connection().request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `/3/device/${address}`,
        authorization: `bearer ${bearer}`,
        'apns-topic': this.#config.topic,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-expiration': String(Math.floor(Date.now() / 1000) + 120),
        'content-type': 'application/json',
      });
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      request.setTimeout(timeoutMs, () => {
        fail(new Error(`APNs did not answer in ${timeoutMs} ms`));
        request.close(constants.NGHTTP2_CANCEL);
      });
      let responseHeaders: Record<string, unknown> | undefined;
      let data = '';
      request.on('response', (h) => (responseHeaders = h));
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (data += chunk));
      request.on('end', () => {
        if (settled) return;
        const code = Number(responseHeaders?.[constants.HTTP2_HEADER_STATUS] ?? 0);
        if (code === 0) return fail(new Error('APNs closed the stream without an answer'));
        settled = true;
        resolve({ status: code, headers: responseHeaders ?? {}, text: data });
      });
      request.on('close', () => fail(new Error('APNs closed the stream without an answer')));
      request.on('error', fail);
      request.end(body);
    });
    const reason = (() => {
      try {
        return String((JSON.parse(text) as { reason?: string }).reason ?? '');
      } catch {
        return '';
      }
    })();
    return { status, headers, reason };
  }

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session && !session.closed) await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}
