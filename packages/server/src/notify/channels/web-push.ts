import webpush from 'web-push';
import type { PushOutcome, PushProvider, WakePayload } from './push.ts';
import { pushHttpOutcome } from './push.ts';
import { STRICT_WEBPUSH_POLICY, webPushEndpointProblem, type WebPushPolicy } from '../push-targets.ts';

export interface VapidConfig {
  /** `mailto:` or `https:` contact the push service can reach the operator at. */
  readonly subject: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/** A VAPID JWT is valid this long (RFC 8292 allows up to 24 hours)... */
const VAPID_JWT_SECONDS = 12 * 3600;
/** ...and reused for this long, so it never reaches a push service close to its expiry. */
const VAPID_REUSE_MS = 3_600_000;

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
 * done by the `web-push` package (one VAPID JWT per push service and hour); the request itself goes out through fetch so its timeout
 * and errors are ours to handle. Only endpoints the policy allows are called, and redirects
 * are refused: a subscription is chosen by a device, so it must not steer the server elsewhere.
 */
export class WebPushProvider implements PushProvider {
  readonly #vapid: VapidConfig;
  readonly #ttlSeconds: number;
  readonly #policy: WebPushPolicy;
  readonly #timeoutMs: number;
  readonly #vapidHeaders = new Map<string, { value: string; until: number }>();

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
    const cached = this.#vapidHeaders.get(audience);
    if (cached && cached.until > now) return cached.value;
    const expiration = Math.floor(now / 1000) + VAPID_JWT_SECONDS;
    const value = webpush.getVapidHeaders(audience, this.#vapid.subject, this.#vapid.publicKey, this.#vapid.privateKey, 'aes128gcm', expiration).Authorization;
    if (this.#vapidHeaders.size > 1_000) this.#vapidHeaders.clear();
    this.#vapidHeaders.set(audience, { value, until: now + VAPID_REUSE_MS });
    return value;
  }

  async send(address: string, payload: WakePayload): Promise<PushOutcome> {
    let endpoint: string;
    let headers: Record<string, string>;
    let body: Buffer;
    try {
      const subscription = JSON.parse(address) as webpush.PushSubscription;
      // Registration checks this too; a target stored before the policy (or under another
      // one) must not slip through.
      const problem = webPushEndpointProblem(subscription?.endpoint, this.#policy);
      if (problem) return { ok: false, gone: true, permanent: true, error: `webpush: ${problem.code}` };
      endpoint = subscription.endpoint;
      // RFC 8291 aes128gcm: a fresh ephemeral key and salt for every message.
      body = webpush.encrypt(subscription.keys.p256dh, subscription.keys.auth, JSON.stringify(payload), 'aes128gcm').cipherText;
      headers = {
        TTL: String(this.#ttlSeconds),
        Urgency: 'high',
        'Content-Type': 'application/octet-stream',
        'Content-Encoding': 'aes128gcm',
        Authorization: this.#authorization(new URL(endpoint).origin),
      };
    } catch (error) {
      // A key that cannot encrypt now never will: the subscription is unusable.
      return { ok: false, gone: true, permanent: true, error: `webpush: subscription unusable (${(error as Error).message.slice(0, 100)})` };
    }
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // A push service answers, it does not redirect: an endpoint that does is not one.
      if (/redirect/i.test(String((error as { cause?: { message?: string } }).cause?.message ?? ''))) {
        return { ok: false, gone: true, permanent: true, error: 'webpush: the endpoint redirected' };
      }
      throw error;
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true, id: response.headers.get('location')?.split('/').pop() || undefined };
    return pushHttpOutcome('webpush', response.status, [404, 410]);
  }
}
