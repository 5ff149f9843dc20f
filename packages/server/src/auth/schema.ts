import type { Selectable } from 'kysely';

export const SESSION_KINDS = ['auth', 'sign'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];
export const SESSION_MODES = ['app', 'device_link', 'sms_otp'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];
/**
 * What the phone asks the citizen to check. `verification_code_choice`: pick the code shown on
 * the other screen (sign-in pages). `confirmation_message`: read the relying party's message
 * and confirm it matches what they are told (CIBA at a counter, where no second screen shows a
 * code), as Smart-ID's displayText flows do. The message is part of what the device signs.
 */
export const INTERACTIONS = ['verification_code_choice', 'confirmation_message'] as const;
export type Interaction = (typeof INTERACTIONS)[number];
/**
 * Final results; a session has exactly one, recorded once, and audited. CANCELLED: the party
 * that started it withdrew it (the citizen left the sign-in page, or chose SMS instead).
 */
export const SESSION_RESULTS = ['OK', 'USER_REFUSED', 'TIMEOUT', 'WRONG_VC', 'NOT_ACTIVATED', 'DEVICE_REVOKED', 'DELIVERY_FAILED', 'CANCELLED'] as const;
export type SessionResult = (typeof SESSION_RESULTS)[number];
export type Assurance = 'high' | 'substantial' | 'low';

export interface AuthSessionTable {
  id: string;
  kind: SessionKind;
  mode: SessionMode;
  interaction: Interaction;
  state: 'pending' | 'complete';
  result: SessionResult | null;
  /** Null only for a device-link session started without naming the citizen, until claimed. */
  citizen_id: string | null;
  /** The citizen while the session is pending, null after: its unique index allows one pending session per citizen. */
  pending_citizen_id: string | null;
  device_id: string | null;
  client_id: string;
  service_name: string;
  reason: string | null;
  /** SHA-256 (hex) of the bearer token the starter reads the result with. */
  token_hash: string;
  /**
   * The signing input the device signs is `<header>.<signing_payload>` (JWS, ES256), and its
   * SHA-256 the challenge hash. The header names only the certificate chain (x5c) of
   * `certificate_serial`, two kilobytes that are the device's, so a session keeps the serial
   * and not the chain, and the header is made again from it when needed.
   */
  signing_payload: string | null;
  certificate_serial: string | null;
  verification_code: string | null;
  vc_attempts: number;
  qr_secret: string | null;
  otp_hash: string | null;
  otp_attempts: number;
  notification_id: string | null;
  fallback_notification_id: string | null;
  assurance: Assurance | null;
  document_hash: string | null;
  document_name: string | null;
  /** The device's signature over the signing input (base64url): the compact JWS is `<signing input>.<signature>`. */
  signature: string | null;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
}

export type AuthSession = Selectable<AuthSessionTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    auth_sessions: AuthSessionTable;
  }
}
