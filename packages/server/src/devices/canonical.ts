import { createHash } from 'node:crypto';

/**
 * The strings a device signs. They are specified in docs/device-protocol.md; the client in
 * packages/client implements them independently, and the tests hold the two together.
 */
export const REQUEST_PREFIX = 'TASDIQ-DEVICE-V1';
export const ACTIVATION_PREFIX = 'TASDIQ-ACTIVATE-V1';

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
