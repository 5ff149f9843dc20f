import { browserBaseUrl } from './browser-url.ts';

/**
 * What the service's passkey ceremonies share: the operator console's sign-in, and the citizen
 * app's user verification (PIN or biometrics) that the server checks on each confirmation.
 */

/** The WebAuthn relying party of a service published at `publicUrl`: its RP ID and origin. */
export interface WebAuthnParty {
  readonly id: string;
  readonly origin: string;
}

export function webauthnParty(publicUrl: string): WebAuthnParty {
  const url = new URL(browserBaseUrl(publicUrl));
  return { id: url.hostname, origin: url.origin };
}

/** base64url, bounded: credential ids are at most 1023 bytes (WebAuthn L3), 1364 characters. */
const b64url = (maxLength: number, minLength = 1) => ({ type: 'string', minLength, maxLength, pattern: '^[A-Za-z0-9_-]+$' }) as const;

/**
 * What `navigator.credentials.*` results look like as JSON (`@simplewebauthn/browser`), typed
 * to the last field, so a malformed answer is a 400 before any lookup or verification runs.
 * Extension results are open-ended by the standard; the known ones are typed, others bounded.
 */
const credentialCommon = {
  id: b64url(1400),
  rawId: b64url(1400),
  type: { const: 'public-key' },
  authenticatorAttachment: { type: 'string', enum: ['platform', 'cross-platform'] },
  clientExtensionResults: {
    type: 'object',
    maxProperties: 16,
    properties: {
      credProps: { type: 'object', additionalProperties: false, properties: { rk: { type: 'boolean' } } },
      appid: { type: 'boolean' },
      hmacCreateSecret: { type: 'boolean' },
    },
    // Other extensions' results: an object (bounded) or a flag.
    additionalProperties: { anyOf: [{ type: 'object', maxProperties: 16 }, { type: 'boolean' }] },
  },
} as const;

/** A credential's JSON around its `response` (what differs between creating and using a passkey). */
function credentialJson<R extends { required: readonly string[]; properties: Record<string, unknown> }>(response: R) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'rawId', 'type', 'response', 'clientExtensionResults'],
    properties: { ...credentialCommon, response: { type: 'object', additionalProperties: false, ...response } },
  } as const;
}

/** `navigator.credentials.create()` as RegistrationResponseJSON. */
export const registrationJson = credentialJson({
  required: ['clientDataJSON', 'attestationObject'],
  properties: {
    clientDataJSON: b64url(8192),
    attestationObject: b64url(65536),
    authenticatorData: b64url(16384),
    transports: {
      type: 'array',
      maxItems: 8,
      items: { type: 'string', enum: ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] },
    },
    publicKeyAlgorithm: { type: 'integer', minimum: -65536, maximum: 65535 },
    publicKey: b64url(4096),
  },
});

/** `navigator.credentials.get()` as AuthenticationResponseJSON. */
export const authenticationJson = credentialJson({
  required: ['clientDataJSON', 'authenticatorData', 'signature'],
  properties: {
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(16384),
    signature: b64url(2048),
    userHandle: b64url(128),
  },
});
