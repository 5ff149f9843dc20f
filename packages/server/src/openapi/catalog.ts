import type { ComponentName } from './schemas.ts';

/** What the document says about routes beyond their JSON schemas: grouping, prose, errors. */
export const TAGS = [
  { name: 'Mobile-ID REST API', description: 'Start an authentication or signing session for a citizen, long-poll its result, verify the signature. For services that do not use OpenID Connect.' },
  { name: 'Devices', description: 'The Tasdiq app on a citizen\'s phone (requests signed per docs/device-protocol.md).' },
  { name: 'Enrollment (operator)', description: 'Office operators enrolling citizens, binding phones and managing their status.' },
  { name: 'Relying parties (admin)', description: 'Registering the services that sign citizens in.' },
  { name: 'Offices', description: 'Public list of enrollment offices.' },
  { name: 'Health', description: 'Liveness, readiness and metrics for operations.' },
] as const;

export type TagName = (typeof TAGS)[number]['name'];

/**
 * Routes left out: browser pages and their assets, the development mailbox, the runtime
 * settings of the web app, and OpenID Connect (described by its discovery document).
 */
const EXCLUDED = [/^\/api\/v1\/dev\//, /^\/api\/v1\/web\//, /^\/\.well-known\//, /^\/signin\//, /^\/auth\/signin/, /^\/app(\/|$)/, /^\/console(\/|$)/, /^\/welcome(\/|$)/, /^\/docs\//, /^\/openapi\.json$/, /\*/];

const TAG_RULES: ReadonlyArray<readonly [RegExp, TagName]> = [
  [/^\/api\/v1\/(auth|sign)\/sessions/, 'Mobile-ID REST API'],
  [/^\/api\/v1\/device\//, 'Devices'],
  [/^\/api\/v1\/(enrollment|citizens|operator|audit|me)(\/|$)/, 'Enrollment (operator)'],
  [/^\/api\/v1\/admin\/clients/, 'Relying parties (admin)'],
  [/^\/api\/v1\/offices/, 'Offices'],
  [/^\/(healthz|readyz|metrics)$/, 'Health'],
];

export function tagOf(path: string): TagName | undefined {
  if (EXCLUDED.some((pattern) => pattern.test(path))) return undefined;
  return TAG_RULES.find(([pattern]) => pattern.test(path))?.[1];
}

export const SECURITY_SCHEMES = {
  sessionToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The `sessionToken` returned when the session was started. Only its starter can read the session.',
  },
  deviceSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'tasdiq-signature',
    description: 'Device requests carry `tasdiq-device`, `tasdiq-counter`, `tasdiq-timestamp` and an ES256 `tasdiq-signature` over the canonical request (docs/device-protocol.md).',
  },
  clientAssertion: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'RFC 7523 client assertion (private_key_jwt) signed with a key the relying party registered: `iss` = `sub` = client id, `aud` = the endpoint URL, ' +
      '`iat`, `exp` (at most 60 s old), unique `jti`; `serviceId` must be the same client id. Required for every session start outside development mode; in development only when `serviceId` names a registered client.',
  },
  operatorSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'tasdiq_op',
    description: 'Operator session cookie set by the passkey sign-in (`/api/v1/operator/auth/verify`).',
  },
} as const;

type SecurityName = keyof typeof SECURITY_SCHEMES;
/** `optionalClientAssertion`: anonymous callers are still accepted (docs/api/mobile-id.md). */
export type OperationSecurity = SecurityName | 'none' | 'optionalClientAssertion';

/** Security by path for the routes without an entry of their own. */
export function securityOf(path: string): SecurityName | 'none' {
  if (/^\/api\/v1\/device\/(activate|ca\/)/.test(path)) return 'none';
  if (path.startsWith('/api/v1/device/')) return 'deviceSignature';
  if (/^\/api\/v1\/operator\/(register|auth)\//.test(path)) return 'none';
  if (/^\/api\/v1\/(enrollment|citizens|operator|audit|me|admin)\//.test(path)) return 'operatorSession';
  return 'none';
}

/** Codes any route may answer with, from the HTTP layer itself. */
export const COMMON_CODES = ['validation_failed', 'malformed_body', 'unsupported_media_type', 'payload_too_large', 'rate_limited', 'internal_error'] as const;

export interface OperationDocs {
  readonly summary: string;
  readonly description?: string;
  readonly security?: OperationSecurity;
  /** The success status and the component it answers with. */
  readonly success: { readonly status: number; readonly schema: ComponentName; readonly description: string };
  /** Stable error codes this operation answers with, beyond COMMON_CODES. */
  readonly errors: readonly string[];
}

const START_ERRORS = ['auth_subject_required', 'auth_confirmation_message_required', 'auth_mode_mismatch', 'auth_session_already_pending', 'auth_cooldown', 'client_assertion_invalid', 'client_assertion_required', 'client_service_mismatch'] as const;

/** Keyed by `<method> <OpenAPI path>`. */
export const OPERATIONS: Readonly<Record<string, OperationDocs>> = {
  'post /api/v1/auth/sessions': {
    summary: 'Start an authentication session',
    description:
      'Name the citizen by `pinfl` or `phone` (exactly one). Tasdiq makes a random challenge, pushes the request to the citizen\'s app and returns ' +
      'the session id, a bearer `sessionToken` and the four-digit `verificationCode` to show the citizen. A citizen without an active app gets ' +
      'an immediately complete session with result NOT_ACTIVATED (so the answer does not reveal who is enrolled).',
    security: 'optionalClientAssertion',
    success: { status: 201, schema: 'StartedSession', description: 'The session was started.' },
    errors: [...START_ERRORS, 'auth_otp_rate_limited', 'client_origin_not_registered'],
  },
  'post /api/v1/sign/sessions': {
    summary: 'Start a signing session for a document hash',
    description:
      '`documentHash` is the base64url SHA-256 of the document (43 characters); the citizen sees `documentName` and signs with their signing key. ' +
      'The result JWS payload carries the hash, so the signature is bound to the document.',
    security: 'optionalClientAssertion',
    success: { status: 201, schema: 'StartedSession', description: 'The session was started.' },
    errors: [...START_ERRORS],
  },
  'get /api/v1/auth/sessions/{id}': {
    summary: 'Read (long-poll) a session\'s result',
    description:
      'With `timeoutMs` (up to 30000) the answer waits until the session completes or the time passes, then returns the current state. ' +
      'Poll again while `state` is `pending`. Authentication and signing sessions are both read here.',
    security: 'sessionToken',
    success: { status: 200, schema: 'SessionView', description: 'The session as it stands.' },
    errors: ['auth_session_not_found'],
  },
  'delete /api/v1/auth/sessions/{id}': {
    summary: 'Cancel a session',
    description:
      'The citizen left your page: the session ends `CANCELLED` and its request leaves the phone, so a new session for the citizen may start at once ' +
      '(instead of `auth_session_already_pending` until this one expires). A session already over is returned as it is.',
    security: 'sessionToken',
    success: { status: 200, schema: 'SessionView', description: 'The session, now complete.' },
    errors: ['auth_session_not_found'],
  },
  'get /api/v1/auth/sessions/{id}/qr': {
    summary: 'Current QR code of a device-link session',
    security: 'sessionToken',
    success: { status: 200, schema: 'SessionQr', description: 'The QR payload for this second.' },
    errors: ['auth_session_not_found', 'auth_mode_mismatch', 'auth_session_not_pending', 'auth_session_expired'],
  },
  'post /api/v1/auth/sessions/{id}/otp': {
    summary: 'Check the SMS code of an sms_otp session',
    security: 'sessionToken',
    success: { status: 200, schema: 'SessionView', description: 'The code was right; the session is complete.' },
    errors: ['auth_session_not_found', 'auth_mode_mismatch', 'auth_session_not_pending', 'auth_session_expired', 'auth_otp_wrong', 'auth_otp_attempts_exhausted'],
  },
};
