import type { Locale } from '../../platform/i18n.ts';

/** A message as a channel sees it: already claimed, not yet rendered. */
export interface OutgoingMessage {
  readonly id: string;
  readonly kind: string;
  readonly recipient: string;
  readonly locale: Locale;
  readonly params: Readonly<Record<string, string | number>>;
  readonly correlationId: string | null;
  readonly attempt: number;
}

export interface DeliveryResult {
  /** The SMSC route or provider that took the message. */
  readonly route: string;
  /** Provider message ids to match delivery receipts against (one per SMS segment). */
  readonly refs: readonly string[];
  /** True when the channel itself is the end of the road (dev inbox): no receipt will come. */
  readonly delivered?: boolean;
}

/**
 * A failed delivery. Permanent failures (no route, number rejected, template broken) stop
 * retries at once; transient ones are retried with backoff until the attempt bound.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  readonly route: string | undefined;
  constructor(message: string, options: { permanent?: boolean; route?: string | undefined } = {}) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = options.permanent ?? false;
    this.route = options.route;
  }
}

export interface Channel {
  deliver(message: OutgoingMessage): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** Sends a finished SMS text to a phone; the SMPP router and the HTTP gateway implement it. */
export interface SmsTransport {
  send(messageId: string, to: string, text: string): Promise<{ route: string; refs: string[] }>;
  close(): Promise<void>;
}
