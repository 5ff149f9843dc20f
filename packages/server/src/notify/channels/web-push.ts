import webpush from 'web-push';
import type { PushOutcome, PushProvider, WakePayload } from './push.ts';
import { pushHttpOutcome } from './push.ts';

export interface VapidConfig {
  /** `mailto:` or `https:` contact the push service can reach the operator at. */
  readonly subject: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
 * done by the `web-push` package; the request itself goes out through fetch so its timeout
 * and errors are ours to handle.
 */
export class WebPushProvider implements PushProvider {
  readonly #vapid: VapidConfig;
  readonly #ttlSeconds: number;

  constructor(vapid: VapidConfig, options: { ttlSeconds?: number } = {}) {
    this.#vapid = vapid;
    this.#ttlSeconds = options.ttlSeconds ?? 120;
  }

  async send(address: string, payload: WakePayload): Promise<PushOutcome> {
    const subscription = JSON.parse(address) as webpush.PushSubscription;
    const details = webpush.generateRequestDetails(subscription, JSON.stringify(payload), {
      vapidDetails: this.#vapid,
      TTL: this.#ttlSeconds,
      contentEncoding: 'aes128gcm',
      urgency: 'high',
    });
    const response = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: details.body as Buffer,
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true, id: response.headers.get('location')?.split('/').pop() ?? String(response.status) };
    return pushHttpOutcome('webpush', response.status, [404, 410]);
  }
}
