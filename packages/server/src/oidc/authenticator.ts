import type { Locale, Translations } from '../platform/i18n.ts';

/*
 * Extensions (backwards compatible: every addition is optional; an Authenticator that ignores
 * them, or a caller that never sets them, behaves as before):
 * - AuthenticationRequest.interaction: 'confirmation_message' makes the phone show the
 *   binding message to confirm instead of the 3-code choice (CIBA: nobody sees a code on a
 *   second screen). The device authenticator picks it by itself when a bindingMessage is
 *   given and interaction is not; the sign-in pages never give a bindingMessage.
 * - AuthenticationRequest.method: 'sms_otp' (SMS one-time code, assurance low only) or
 *   'device_link' (no login hint; the page shows the rotating QR from deviceLinkQr).
 *   StartResult.smsFallback says whether the page may offer SMS for this client and citizen.
 * - AuthenticationRequest.origin: the host the SMS code is bound to (WebOTP `@origin #code`).
 * - Authenticator.verifySmsCode / deviceLinkQr, for those two methods.
 * - AuthenticationRequest.locale: the language the phone (push, SMS) speaks; the client's name
 *   is taken in it. Default uz-Latn.
 * - StartResult reason 'already_pending': the citizen has another sign-in waiting on the phone.
 * - Authenticator.cancel / watch / settled: withdraw an attempt; hear in-process completions;
 *   ask which of many attempts are over in one call (CIBA follows every pending request so).
 */

/** What the sign-in pages and CIBA hand to the device flow. */
export interface AuthenticationRequest {
  /** A phone number (+998...) or a 14-digit PINFL, as the citizen or the counter typed it. */
  readonly loginHint: string;
  /** Acceptable acr values, weakest first; the result must meet the weakest. */
  readonly acrValues: readonly string[];
  readonly client: { readonly clientId: string; readonly name: Translations };
  /** Shown on the phone (CIBA binding_message); already validated. */
  readonly bindingMessage?: string | undefined;
  /** What the phone asks the citizen to check; see the note at the top. */
  readonly interaction?: 'verification_code_choice' | 'confirmation_message' | undefined;
  /** How the citizen confirms: the app (default), an SMS code, or the app via a QR. */
  readonly method?: 'app' | 'sms_otp' | 'device_link' | undefined;
  /** Host name the SMS code is bound to (e.g. id.tasdiq.uz); required for sms_otp. */
  readonly origin?: string | undefined;
  /** The citizen's language (the sign-in page's, or ui_locales): for the push and the SMS. */
  readonly locale?: Locale | undefined;
}

export type SmsCheck =
  | { readonly status: 'accepted' }
  | { readonly status: 'wrong'; readonly attemptsLeft: number }
  | { readonly status: 'malformed' | 'exhausted' | 'expired' | 'failed' };

export type StartResult =
  | {
      readonly status: 'pending';
      readonly attemptId: string;
      /** Shown on the sign-in page and on the phone; the citizen checks they match. Empty for sms_otp and device_link. */
      readonly verificationCode: string;
      /** Opens the app on this device (same-device sign-in), shown as a link and a QR code. */
      readonly deviceLink: string | null;
      readonly smsFallback: boolean;
      readonly expiresAt: number;
    }
  | { readonly status: 'refused'; readonly reason: 'unknown_citizen' | 'no_device' | 'rate_limited' | 'already_pending' | 'unavailable' };

export type PollResult =
  | { readonly status: 'pending' }
  | { readonly status: 'approved'; readonly citizenId: string; readonly acr: string; readonly amr: readonly string[]; readonly authTime: number }
  /** Confirmed, but at a lower level (`acr`) than the weakest acceptable one: never a sign-in. */
  | { readonly status: 'insufficient'; readonly acr: string }
  | { readonly status: 'denied' | 'expired' | 'failed' };

/**
 * The seam between the OpenID provider and device authentication (packages/server/src/auth):
 * the interaction routes and CIBA call only this. Wiring the real device flow is one
 * implementation of it.
 */
export interface Authenticator {
  start(request: AuthenticationRequest): Promise<StartResult>;
  poll(attemptId: string): Promise<PollResult>;
  /** sms_otp attempts: checks the code the citizen typed; poll then reports the result. */
  verifySmsCode?(attemptId: string, code: string): Promise<SmsCheck>;
  /** device_link attempts: the QR to show now (it changes every second); null once over. */
  deviceLinkQr?(attemptId: string): Promise<{ readonly qr: string; readonly elapsedSeconds: number } | null>;
  /** Withdraws a pending attempt (the citizen left the page or switched method); no-op once over. */
  cancel?(attemptId: string): Promise<void>;
  /**
   * Calls `listener` when the attempt may have ended in this process (a hint: poll for the
   * result). Returns the unsubscribe. Completions on other instances are found by `settled`.
   */
  watch?(attemptId: string, listener: () => void): () => void;
  /** Which of these attempts are over (one query for many); poll each of those for its result. */
  settled?(attemptIds: readonly string[]): Promise<string[]>;
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
