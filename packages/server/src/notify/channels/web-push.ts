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

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
 * done by the `web-push` package; the request itself goes out through fetch so its timeout
 * and errors are ours to handle. Only endpoints the policy allows are called, and redirects
 * are refused: a subscription is chosen by a device, so it must not steer the server elsewhere.
 */
export class WebPushProvider implements PushProvider {
  readonly #vapid: VapidConfig;
  readonly #ttlSeconds: number;
  readonly #policy: WebPushPolicy;
  readonly #timeoutMs: number;

  constructor(vapid: VapidConfig, options: { ttlSeconds?: number; policy?: WebPushPolicy; timeoutMs?: number } = {}) {
    this.#vapid = vapid;
    this.#ttlSeconds = options.ttlSeconds ?? 120;
    this.#policy = options.policy ?? STRICT_WEBPUSH_POLICY;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(address: string, payload: WakePayload): Promise<PushOutcome> {
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      const subscription = JSON.parse(address) as webpush.PushSubscription;
      // Registration checks this too; a target stored before the policy (or under another
      // one) must not slip through.
      const problem = webPushEndpointProblem(subscription?.endpoint, this.#policy);
      if (problem) return { ok: false, gone: true, permanent: true, error: `webpush: ${problem.code}` };
      details = webpush.generateRequestDetails(subscription, JSON.stringify(payload), {
        vapidDetails: this.#vapid,
        TTL: this.#ttlSeconds,
        contentEncoding: 'aes128gcm',
        urgency: 'high',
      });
    } catch (error) {
      // A key that cannot encrypt now never will: the subscription is unusable.
      return { ok: false, gone: true, permanent: true, error: `webpush: subscription unusable (${(error as Error).message.slice(0, 100)})` };
    }
    let response: Response;
    try {
      response = await fetch(details.endpoint, {
        method: details.method,
        headers: details.headers as Record<string, string>,
        body: details.body as Buffer,
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
