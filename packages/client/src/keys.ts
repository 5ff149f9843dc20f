import type { CryptoKey, JsonWebKey } from './webcrypto-types.ts';
import { fromBase64Url, toBase64Url, utf8 } from './encoding.ts';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A P-256 key pair in the platform key store (WebCrypto; non-extractable unless asked). */
export interface DeviceKey {
  readonly privateKey: CryptoKey;
  /** SubjectPublicKeyInfo DER, base64url: what the server registers. */
  readonly spki: string;
}

export async function generateDeviceKey(extractable = false): Promise<DeviceKey> {
  const pair = await crypto.subtle.generateKey(EC, extractable, ['sign', 'verify']);
  const spki = toBase64Url(new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey)));
  return { privateKey: pair.privateKey, spki };
}

/** ES256 signature in the raw r||s form, base64url (as JWS writes it). */
export async function signES256(key: DeviceKey, message: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.sign(ES256, key.privateKey, utf8(message) as Uint8Array<ArrayBuffer>)));
}

/** For simulators that persist keys in a file: only possible with extractable keys. */
export async function exportDeviceKey(key: DeviceKey): Promise<{ jwk: JsonWebKey; spki: string }> {
  return { jwk: await crypto.subtle.exportKey('jwk', key.privateKey), spki: key.spki };
}

export async function importDeviceKey(saved: { jwk: JsonWebKey; spki: string }): Promise<DeviceKey> {
  fromBase64Url(saved.spki);
  return { privateKey: await crypto.subtle.importKey('jwk', saved.jwk, EC, true, ['sign']), spki: saved.spki };
}
