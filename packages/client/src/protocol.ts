import { toHex, utf8 } from './encoding.ts';

/**
 * The device protocol's signed strings (docs/device-protocol.md), written independently of
 * the server's implementation so that tests between the two catch a drift in either.
 */
export const REQUEST_PREFIX = 'TASDIQ-DEVICE-V1';
export const ACTIVATION_PREFIX = 'TASDIQ-ACTIVATE-V1';
export const KEY_ATTESTATION_PREFIX = 'TASDIQ-KEY-ATTESTATION-V1';
export const HEADERS = {
  device: 'tasdiq-device',
  counter: 'tasdiq-counter',
  timestamp: 'tasdiq-timestamp',
  signature: 'tasdiq-signature',
} as const;

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

export async function canonicalRequest(input: {
  method: string;
  path: string;
  deviceId: string;
  counter: number;
  timestamp: number;
  body: string;
}): Promise<string> {
  const bodyHash = toHex(await sha256(input.body));
  return `${REQUEST_PREFIX}\n${input.method.toUpperCase()}\n${input.path}\n${input.deviceId}\n${input.counter}\n${input.timestamp}\n${bodyHash}`;
}

export function activationMessage(code: string, authKey: string, signKey: string): string {
  return `${ACTIVATION_PREFIX}\n${code}\n${authKey}\n${signKey}`;
}

/**
 * The challenge for the platform key store's attestation of the two keys (Android KeyStore's
 * `setAttestationChallenge`): SHA-256 of `TASDIQ-KEY-ATTESTATION-V1\n<code>\n<authKey>\n<signKey>`,
 * 32 bytes. The keys are the base64url SubjectPublicKeyInfo, as registered.
 */
export async function keyAttestationChallenge(code: string, authKey: string, signKey: string): Promise<Uint8Array> {
  return sha256(`${KEY_ATTESTATION_PREFIX}\n${code}\n${authKey}\n${signKey}`);
}

/**
 * The WebAuthn challenge of a confirmation, for an app whose activation registered a passkey:
 * SHA-256 of the request's signing input, 32 bytes (base64url in the assertion's client data).
 */
export async function userVerificationChallenge(signingInput: string): Promise<Uint8Array> {
  return sha256(signingInput);
}

/**
 * The 4-digit code shown on both screens: SHA-256 of the challenge hash (itself SHA-256 of
 * the signing input), the last two bytes big-endian, mod 10000.
 */
export async function verificationCode(signingInput: string): Promise<string> {
  const digest = await sha256(await sha256(signingInput));
  const value = (digest[30]! << 8) | digest[31]!;
  return String(value % 10000).padStart(4, '0');
}
