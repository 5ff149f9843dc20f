import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  readonly #vapidHeaders = new BoundedCache<string, string>(1_000);
  readonly #endpoints = new BoundedCache<string, URL | PushOutcome>(10_000);
  readonly #agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: 64 }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };

  constructor(vapid: VapidConfig, options: { ttlSeconds?: number; policy?: WebPushPolicy; timeoutMs?: number } = {}) {
    this.#vapid = vapid;
    this.#ttlSeconds = options.ttlSeconds ?? 120;
    this.#policy = options.policy ?? STRICT_WEBPUSH_POLICY;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * The VAPID Authorization header for a push service (RFC 8292 §2): a signed JWT naming its
   * origin, valid for hours, so one is made per push service and hour, not per message.
   */
  #authorization(audience: string): string {
    const now = Date.now();
    const cached = this.#vapidHeaders.get(audience, now);
    if (cached) return cached;
    const expiration = Math.floor(now / 1000) + VAPID_JWT_SECONDS;
    // 'aes128gcm' selects RFC 8292's `vapid t=…, k=…` header form (the other is a draft's).
    const value = webpush.getVapidHeaders(audience, this.#vapid.subject, this.#vapid.publicKey, this.#vapid.privateKey, 'aes128gcm', expiration).Authorization;
    this.#vapidHeaders.set(audience, value, now + VAPID_REUSE_MS);
    return value;
  }

  /**
   * The endpoint a stored subscription names, checked against the policy, or why it is
   * unusable. Registration checks it too, but a target stored before the policy (or under
   * another one) must not slip through. A device's subscription is sent to on every sign-in
   * and does not change, so the answer is kept per address.
   */
  #endpoint(address: string): URL | PushOutcome {
    const known = this.#endpoints.get(address, 0);
    if (known) return known;
    let checked: URL | PushOutcome;
    try {
      const subscription = JSON.parse(address) as webpush.PushSubscription;
      const problem = webPushEndpointProblem(subscription?.endpoint, this.#policy);
      checked = problem ? { ok: false, gone: true, permanent: true, error: `webpush: ${problem.code}` } : new URL(subscription.endpoint);
    } catch (error) {
      // A stored subscription that does not parse now never will: it is unusable.
      checked = { ok: false, gone: true, permanent: true, error: `webpush: subscription unusable (${(error as Error).message.slice(0, 100)})` };
    }
    this.#endpoints.set(address, checked);
    return checked;
  }

  /** The wake payload stays with the native providers: a Web Push wake is empty (see above). */
  async send(address: string, _payload: WakePayload): Promise<PushOutcome> {
    const endpoint = this.#endpoint(address);
    if (!(endpoint instanceof URL)) return endpoint;
    const headers = { TTL: String(this.#ttlSeconds), Urgency: 'high', Topic: WAKE_TOPIC, Authorization: this.#authorization(endpoint.origin) };
    const answer = await this.#post(endpoint, headers);
    // A push service answers, it does not redirect: an endpoint that does is not one.
    if (answer.status >= 300 && answer.status < 400) return { ok: false, gone: true, permanent: true, error: 'webpush: the endpoint redirected' };
    if (answer.status >= 200 && answer.status < 300) return { ok: true, id: answer.location?.split('/').pop() || undefined };
    return pushHttpOutcome('webpush', answer.status, [404, 410]);
  }

  /** One POST; the answer's body says nothing Tasdiq needs and is drained. */
  #post(url: URL, headers: Record<string, string>): Promise<{ status: number; location: string | undefined }> {
    const [send, agent] = url.protocol === 'https:' ? [httpsRequest, this.#agents['https:']] : [httpRequest, this.#agents['http:']];
    return new Promise((resolve, reject) => {
      const request = send(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': '0' } }, (response) => {
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

function locationOf(headers: IncomingHttpHeaders): string | undefined {
  return typeof headers.location === 'string' ? headers.location : undefined;
}
