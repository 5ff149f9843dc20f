import { DeliveryError, type SmsTransport } from './channel.ts';

export interface HttpSmsConfig {
  readonly url: string;
  /** Sent as `Authorization: Bearer ...` when set. */
  readonly token: string | undefined;
  readonly timeoutMs: number;
}

/**
 * An SMS aggregator's HTTP API: `POST url` with `{ to, text, reference }`, answered with
 * `{ id }`. The message id is the idempotency reference, so an aggregator that honours it
 * drops the duplicate a retry after a lost answer would otherwise send.
 */
export class HttpSmsGateway implements SmsTransport {
  readonly #config: HttpSmsConfig;

  constructor(config: HttpSmsConfig) {
    this.#config = config;
  }

  async send(messageId: string, to: string, text: string): Promise<{ route: string; refs: string[] }> {
    let response: Response;
    try {
      response = await fetch(this.#config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': messageId,
          ...(this.#config.token ? { authorization: `Bearer ${this.#config.token}` } : {}),
        },
        body: JSON.stringify({ to, text, reference: messageId }),
        // A redirect would carry the code and the bearer token somewhere not configured.
        redirect: 'error',
        signal: AbortSignal.timeout(this.#config.timeoutMs),
      });
    } catch (error) {
      throw new DeliveryError(`SMS gateway unreachable: ${(error as Error).name}`, { route: 'http' });
    }
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      throw new DeliveryError(`SMS gateway answered ${response.status}`, { route: 'http', permanent: !retryable });
    }
    const body = (await response.json().catch(() => ({}))) as { id?: unknown };
    const id = typeof body.id === 'string' || typeof body.id === 'number' ? String(body.id) : messageId;
    return { route: 'http', refs: [`http:${id}`] };
  }

  async close(): Promise<void> {}
}
