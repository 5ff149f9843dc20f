import { createHash } from 'node:crypto';

/**
 * The strings a device signs. They are specified in docs/device-protocol.md; the client in
 * packages/client implements them independently, and the tests hold the two together.
 */
export const REQUEST_PREFIX = 'TASDIQ-DEVICE-V1';
export const ACTIVATION_PREFIX = 'TASDIQ-ACTIVATE-V1';
export const KEY_ATTESTATION_PREFIX = 'TASDIQ-KEY-ATTESTATION-V1';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalRequest(input: {
  method: string;
  path: string;
  deviceId: string;
  counter: number;
  timestamp: number;
  body: Uint8Array | string;
}): string {
  return [REQUEST_PREFIX, input.method.toUpperCase(), input.path, input.deviceId, String(input.counter), String(input.timestamp), sha256Hex(input.body)].join('\n');
}

export function activationMessage(code: string, authKey: string, signKey: string): string {
  return [ACTIVATION_PREFIX, code, authKey, signKey].join('\n');
}

/**
 * The challenge a native app passes to the platform key store when it generates the two keys
 * (Android: `KeyGenParameterSpec.Builder.setAttestationChallenge`), so the attestation is
 * bound to this activation: SHA-256 of the UTF-8 string
 * `TASDIQ-KEY-ATTESTATION-V1\n<activationCode>\n<authKey>\n<signKey>` (32 bytes). Both
 * keys' attestations carry the same challenge.
 */
export function keyAttestationChallenge(code: string, authKey: string, signKey: string): Buffer {
  return createHash('sha256').update([KEY_ATTESTATION_PREFIX, code, authKey, signKey].join('\n')).digest();
}
