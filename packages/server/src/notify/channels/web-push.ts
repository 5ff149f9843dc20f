import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import webpush from 'web-push';
import type { PushOutcome, PushProvider, WakePayload } from './push.ts';
import { pushHttpOutcome } from './push.ts';
import { BoundedCache } from '../../platform/bounded-cache.ts';
import { STRICT_WEBPUSH_POLICY, webPushEndpointProblem, type WebPushPolicy } from '../push-targets.ts';

export interface VapidConfig {
  /** `mailto:` or `https:` contact the push service can reach the operator at. */
  readonly subject: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/**
 * RFC 8030 §5.4: a push with a topic replaces an undelivered one with the same topic, so a phone
 * that was offline gets one wake, not one for every request it missed.
 */
const WAKE_TOPIC = 'tasdiq-wake';
/** A VAPID JWT is valid this long (RFC 8292 allows up to 24 hours)... */
const VAPID_JWT_SECONDS = 12 * 3600;
/** ...and reused for this long, so it never reaches a push service close to its expiry. */
const VAPID_REUSE_MS = 3_600_000;

/**
 * A checked endpoint, kept with what every request to it repeats: parsing the URL and copying
 * it into request options cost more than the request's own bytes (measured), and a device's
 * subscription is sent to on every sign-in.
 */
interface PushTarget {
  readonly origin: string;
  readonly https: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
  /** The Host header as `node:http` would write it: the port only when it is not the default. */
  readonly hostHeader: string;
  /** TLS SNI: `node:https` reads it from a Host header given as an object, so it is given here; none for an IP address. */
  readonly servername: string;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292, the `web-push` package's JWT, one per push service
 * and hour). A wake carries no payload (RFC 8030 §5, as Signal's pushes do): the app learns what
 * waits over the device protocol, so there is nothing to encrypt, and the RFC 8291 encryption a
 * payload would need (an ECDH and three HKDFs, about a tenth of a sign-in's CPU, measured) is
 * spared. The request itself goes out through `node:http(s)` on kept-alive connections, so its
 * timeout and errors are ours to handle (and it costs a third of `fetch`'s CPU, measured: every
 * sign-in sends one). Only endpoints the policy allows are called, and redirects are refused: a
 * subscription is chosen by a device, so it must not steer the server elsewhere.
 */
export class WebPushProvider implements PushProvider {
  readonly #vapid: VapidConfig;
  readonly #ttlSeconds: number;
  readonly #policy: WebPushPolicy;
  readonly #timeoutMs: number;
  /** Per push service and hour: the request's headers, VAPID Authorization included. */
  readonly #headers = new BoundedCache<string, readonly string[]>(1_000);
  readonly #endpoints = new BoundedCache<string, PushTarget | PushOutcome>(10_000);
  readonly #agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: 64 }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };

  constructor(vapid: VapidConfig, options: { ttlSeconds?: number; policy?: WebPushPolicy; timeoutMs?: number } = {}) {
    this.#vapid = vapid;
    this.#ttlSeconds = options.ttlSeconds ?? 120;
    this.#policy = options.policy ?? STRICT_WEBPUSH_POLICY;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * The headers of a wake to one push service, in `message.rawHeaders` form: a request given an
   * array writes it as it is instead of checking each header again (they are ours and checked
   * here once). The VAPID Authorization (RFC 8292 §2) is a signed JWT naming the push service's
   * origin, valid for hours, so one is made per push service and hour, not per message.
   */
  #headersFor(target: PushTarget): readonly string[] {
    const now = Date.now();
    const cached = this.#headers.get(target.origin, now);
    if (cached) return cached;
    const expiration = Math.floor(now / 1000) + VAPID_JWT_SECONDS;
    // 'aes128gcm' selects RFC 8292's `vapid t=…, k=…` header form (the other is a draft's).
    const authorization = webpush.getVapidHeaders(target.origin, this.#vapid.subject, this.#vapid.publicKey, this.#vapid.privateKey, 'aes128gcm', expiration).Authorization;
    const headers = ['Host', target.hostHeader, 'TTL', String(this.#ttlSeconds), 'Urgency', 'high', 'Topic', WAKE_TOPIC, 'Authorization', authorization, 'Content-Length', '0'];
    this.#headers.set(target.origin, headers, now + VAPID_REUSE_MS);
    return headers;
  }

  /**
   * The endpoint a stored subscription names, checked against the policy, or why it is
   * unusable. Registration checks it too, but a target stored before the policy (or under
   * another one) must not slip through. A device's subscription is sent to on every sign-in
   * and does not change, so the answer is kept per address.
   */
  #endpoint(address: string): PushTarget | PushOutcome {
    const known = this.#endpoints.get(address, 0);
    if (known) return known;
    let checked: PushTarget | PushOutcome;
    try {
      const subscription = JSON.parse(address) as webpush.PushSubscription;
      const problem = webPushEndpointProblem(subscription?.endpoint, this.#policy);
      checked = problem ? { ok: false, gone: true, permanent: true, error: `webpush: ${problem.code}` } : pushTarget(new URL(subscription.endpoint));
    } catch (error) {
      // A stored subscription that does not parse now never will: it is unusable.
      checked = { ok: false, gone: true, permanent: true, error: `webpush: subscription unusable (${(error as Error).message.slice(0, 100)})` };
    }
    this.#endpoints.set(address, checked);
    return checked;
  }

  /** The wake payload stays with the native providers: a Web Push wake is empty (see above). */
  async send(address: string, _payload: WakePayload): Promise<PushOutcome> {
    const target = this.#endpoint(address);
    if ('ok' in target) return target;
    const answer = await this.#post(target, this.#headersFor(target));
    // A push service answers, it does not redirect: an endpoint that does is not one.
    if (answer.status >= 300 && answer.status < 400) return { ok: false, gone: true, permanent: true, error: 'webpush: the endpoint redirected' };
    if (answer.status >= 200 && answer.status < 300) return { ok: true, id: answer.location?.split('/').pop() || undefined };
    return pushHttpOutcome('webpush', answer.status, [404, 410]);
  }

  /** One POST; the answer's body says nothing Tasdiq needs and is drained. */
  #post(target: PushTarget, headers: readonly string[]): Promise<{ status: number; location: string | undefined }> {
    const [send, agent] = target.https ? [httpsRequest, this.#agents['https:']] : [httpRequest, this.#agents['http:']];
    const options = { method: 'POST', agent, hostname: target.hostname, port: target.port, path: target.path, servername: target.servername, headers: headers as string[] };
    return new Promise((resolve, reject) => {
      const request = send(options, (response) => {
        response.on('error', reject);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, location: locationOf(response.headers) });
        });
        response.resume();
      });
      // A plain timer, not AbortSignal.timeout: that one builds a signal and its listeners for
      // every push, and is cleared nowhere when the answer comes first.
      const timer = setTimeout(() => request.destroy(new Error(`webpush: no answer in ${this.#timeoutMs} ms`)), this.#timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end();
    });
  }

  async close(): Promise<void> {
    this.#agents['http:'].destroy();
    this.#agents['https:'].destroy();
  }
}

function pushTarget(url: URL): PushTarget {
  const https = url.protocol === 'https:';
  // A URL keeps IPv6 hosts bracketed; a socket wants the bare address.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port) || (https ? 443 : 80);
  return { origin: url.origin, https, hostname, port, path: `${url.pathname}${url.search}`, hostHeader: url.host, servername: isIP(hostname) ? '' : hostname };
}

function locationOf(headers: IncomingHttpHeaders): string | undefined {
  return typeof headers.location === 'string' ? headers.location : undefined;
}
