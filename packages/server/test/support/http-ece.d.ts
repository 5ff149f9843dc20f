// `http_ece` (the reference aes128gcm implementation, by RFC 8188's author) ships no types;
// these cover the decryption the tests check Tasdiq's Web Push bodies with.
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  export function decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
}
