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
  /** SMS segments submitted (billing); absent for push. */
  readonly segments?: number;
}

/**
 * A failed delivery. Permanent failures (no route, number rejected, template broken) stop
 * retries at once; transient ones are retried with backoff until the attempt bound.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  readonly route: string | undefined;
  /**
   * Refs of the segments of a long SMS the SMSC accepted before a later one failed: they are
   * on their way to the phone, so they are recorded (their receipts match, operators bill them).
   */
  readonly refs: readonly string[];
  constructor(message: string, options: { permanent?: boolean; route?: string | undefined; refs?: readonly string[] } = {}) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = options.permanent ?? false;
    this.route = options.route;
    this.refs = options.refs ?? [];
  }
}

export interface Channel {
  deliver(message: OutgoingMessage): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** Sends a finished SMS text to a phone; the SMPP router and the HTTP gateway implement it. */
export interface SmsTransport {
  send(messageId: string, to: string, text: string): Promise<{ route: string; refs: string[]; segments?: number }>;
  close(): Promise<void>;
}
