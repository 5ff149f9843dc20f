import type { Translations } from '../platform/i18n.ts';

/** What the sign-in pages and CIBA hand to the device flow. */
export interface AuthenticationRequest {
  /** A phone number (+998...) or a 14-digit PINFL, as the citizen or the counter typed it. */
  readonly loginHint: string;
  /** Acceptable acr values, weakest first; the result must meet the weakest. */
  readonly acrValues: readonly string[];
  readonly client: { readonly clientId: string; readonly name: Translations };
  /** Shown on the phone (CIBA binding_message); already validated. */
  readonly bindingMessage?: string | undefined;
}

export type StartResult =
  | {
      readonly status: 'pending';
      readonly attemptId: string;
      /** Shown on the sign-in page and on the phone; the citizen checks they match. */
      readonly verificationCode: string;
      /** Opens the app on this device (same-device sign-in), shown as a link and a QR code. */
      readonly deviceLink: string | null;
      readonly smsFallback: boolean;
      readonly expiresAt: number;
    }
  | { readonly status: 'refused'; readonly reason: 'unknown_citizen' | 'no_device' | 'rate_limited' | 'unavailable' };

export type PollResult =
  | { readonly status: 'pending' }
  | { readonly status: 'approved'; readonly citizenId: string; readonly acr: string; readonly amr: readonly string[]; readonly authTime: number }
  | { readonly status: 'denied' | 'expired' | 'failed' };

/**
 * The seam between the OpenID provider and device authentication (packages/server/src/auth):
 * the interaction routes and CIBA call only this. Wiring the real device flow is one
 * implementation of it.
 */
export interface Authenticator {
  start(request: AuthenticationRequest): Promise<StartResult>;
  poll(attemptId: string): Promise<PollResult>;
}

/**
 * What the provider uses until device authentication is wired in: nobody can sign in. It
 * refuses openly, so a deployment never silently accepts a citizen it did not authenticate.
 */
export const unavailableAuthenticator: Authenticator = {
  async start() {
    return { status: 'refused', reason: 'unavailable' };
  },
  async poll() {
    return { status: 'failed' };
  },
};
