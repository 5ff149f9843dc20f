import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { documentKey } from './file-registry.ts';
import { parseRegistryCitizen } from './record.ts';
import { RegistryAnswerInvalidError, RegistryUnavailableError, type PopulationRegistry, type RegistryCitizen } from './types.ts';

export interface HttpRegistryOptions {
  /** e.g. https://registry.example/api; lookups are POSTed to `<baseUrl>/v1/lookup`. */
  readonly baseUrl: string;
  /**
   * Allows a plain http: base URL (development and tests on loopback only). Identity data and
   * the HMAC-signed requests must otherwise travel over TLS.
   */
  readonly allowPlainHttp?: boolean;
  /** Per attempt, covering connect, request and response. */
  readonly timeoutMs?: number;
  /** Extra attempts after the first on network errors, timeouts, 429 and 5xx. */
  readonly retries?: number;
  /** First retry delay; doubles each attempt, with jitter. */
  readonly backoffMs?: number;
  /** Mutual TLS: PEM file paths of our client certificate and key, and of the registry's CA. */
  readonly tls?: { readonly certPath: string; readonly keyPath: string; readonly caPath?: string };
  /** Signed requests: HMAC-SHA256 over method, path, date and body digest. */
  readonly hmac?: { readonly keyId: string; readonly secret: string };
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

class RetryableError extends Error {}

/**
 * The string both sides sign: method, path, date and the body digest, one per line.
 * The registry verifies it with the shared secret named by `x-tasdiq-key-id`.
 */
export function signingString(method: string, path: string, date: string, digest: string): string {
  return `${method.toUpperCase()}\n${path}\n${date}\n${digest}`;
}

export function bodyDigest(body: string): string {
  return `sha-256=${createHash('sha256').update(body).digest('base64')}`;
}

export function signRequest(secret: string, method: string, path: string, date: string, body: string): { digest: string; signature: string } {
  const digest = bodyDigest(body);
  const signature = createHmac('sha256', secret).update(signingString(method, path, date, digest)).digest('base64');
  return { digest, signature };
}

/** For the registry side (and the tests' stand-in registry): checks a signed request. */
export function verifySignedRequest(
  secret: string,
  request: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string },
  now: number,
  maxSkewMs = 5 * 60_000,
): boolean {
  const date = request.headers['date'];
  const digest = request.headers['digest'];
  const signature = request.headers['x-tasdiq-signature'];
  if (typeof date !== 'string' || typeof digest !== 'string' || typeof signature !== 'string') return false;
  const at = Date.parse(date);
  if (!Number.isFinite(at) || Math.abs(now - at) > maxSkewMs) return false;
  if (digest !== bodyDigest(request.body)) return false;
  const expected = createHmac('sha256', secret).update(signingString(request.method, request.path, date, digest)).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connector to the state population registry over HTTPS (mTLS or HMAC-signed requests). */
export class HttpRegistry implements PopulationRegistry {
  readonly source = 'http';
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #agent: http.Agent;
  readonly #hmac: HttpRegistryOptions['hmac'];

  constructor(options: HttpRegistryOptions) {
    this.#url = new URL(options.baseUrl.replace(/\/+$/, '') + '/v1/lookup');
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') throw new Error('registry base URL must be http(s)');
    if (this.#url.protocol === 'http:' && !options.allowPlainHttp) {
      throw new Error('registry base URL must be https: identity data must not travel in clear (plain http is allowed in development only)');
    }
    if (!options.tls && !options.hmac) throw new Error('registry connector needs mutual TLS or an HMAC key: identity data must not travel unauthenticated');
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#retries = options.retries ?? 2;
    this.#backoffMs = options.backoffMs ?? 200;
    this.#hmac = options.hmac;
    this.#agent =
      this.#url.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ...(options.tls
              ? {
                  cert: readFileSync(options.tls.certPath),
                  key: readFileSync(options.tls.keyPath),
                  ...(options.tls.caPath ? { ca: readFileSync(options.tls.caPath) } : {}),
                }
              : {}),
          })
        : new http.Agent({ keepAlive: true });
  }

  async findByPinfl(pinfl: string): Promise<RegistryCitizen | undefined> {
    const citizen = await this.#lookup({ pinfl });
    if (citizen && citizen.pinfl !== pinfl) throw new RegistryAnswerInvalidError('pinfl: the answer is about another person');
    return citizen;
  }

  async findByDocument(series: string, number: string): Promise<RegistryCitizen | undefined> {
    const document = { series: series.trim().toUpperCase(), number: number.trim() };
    const citizen = await this.#lookup({ document });
    const key = documentKey(document.series, document.number);
    if (citizen && !citizen.documents.some((d) => documentKey(d.series, d.number) === key)) {
      throw new RegistryAnswerInvalidError('documents: the answer does not hold the document asked for');
    }
    return citizen;
  }

  close(): void {
    this.#agent.destroy();
  }

  async #lookup(query: object): Promise<RegistryCitizen | undefined> {
    const body = JSON.stringify(query);
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) await sleep(this.#backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      try {
        const answer = await this.#post(body);
        if (answer.status === 404) return undefined;
        if (answer.status === 429 || answer.status >= 500) throw new RetryableError(`registry answered ${answer.status}`);
        if (answer.status !== 200) throw new RegistryUnavailableError(`registry refused the lookup with status ${answer.status}`);
        const parsed = JSON.parse(answer.body) as unknown;
        if (typeof parsed !== 'object' || parsed === null || !('citizen' in parsed)) throw new RegistryAnswerInvalidError('expected { "citizen": { ... } }');
        const record = parseRegistryCitizen(parsed.citizen);
        if (!record.ok) throw new RegistryAnswerInvalidError(record.problem);
        return record.citizen;
      } catch (error) {
        if (error instanceof RegistryUnavailableError) throw error;
        if (error instanceof SyntaxError) throw new RegistryAnswerInvalidError('the answer is not JSON');
        lastError = error;
      }
    }
    throw new RegistryUnavailableError(`registry did not answer after ${this.#retries + 1} attempts`, { cause: lastError });
  }

  #post(body: string): Promise<HttpAnswer> {
    const date = new Date().toUTCString();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      accept: 'application/json',
      date,
    };
    if (this.#hmac) {
      const signed = signRequest(this.#hmac.secret, 'POST', this.#url.pathname, date, body);
      headers['digest'] = signed.digest;
      headers['x-tasdiq-key-id'] = this.#hmac.keyId;
      headers['x-tasdiq-signature'] = signed.signature;
    }
    const transport = this.#url.protocol === 'https:' ? https : http;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const request = transport.request(this.#url, { method: 'POST', headers, agent: this.#agent }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 2 * 1024 * 1024) request.destroy(new RegistryUnavailableError('registry answer too large'));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      // One deadline for the whole exchange, not per socket event: a registry that trickles
      // bytes must not hold an operator's request open.
      const timer = setTimeout(() => request.destroy(new RetryableError(`registry timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', reject);
      request.end(body);
    });
  }
}
