import { createCipheriv, createECDH, hkdfSync, randomBytes, type ECDH } from 'node:crypto';

/** One record of at most this many bytes carries the whole message (RFC 8291 §4). */
const RECORD_SIZE = 4096;
/** Salt (16) + record size (4) + key id length (1) + the sender's public key (65). */
const HEADER_BYTES = 86;
const TAG_BYTES = 16;
/** The largest plaintext that fits the one record, after its padding delimiter and the tag. */
export const MAX_WEB_PUSH_PLAINTEXT = RECORD_SIZE - HEADER_BYTES - TAG_BYTES - 1;

const KEY_INFO = Buffer.from('WebPush: info\0');
const CEK_INFO = Buffer.from('Content-Encoding: aes128gcm\0');
const NONCE_INFO = Buffer.from('Content-Encoding: nonce\0');

/**
 * A Web Push message body: RFC 8291 message encryption in the aes128gcm content coding
 * (RFC 8188), with a fresh ephemeral key pair and salt for every message. Node's own ECDH,
 * HKDF and AES-GCM, with nothing else between: 140 µs against the `web-push` package's 190 µs
 * (measured in one run), on a path every sign-in takes.
 *
 * `fixed` pins the ephemeral key and salt, for the RFC's worked example only.
 */
export function encryptWebPush(p256dh: string, auth: string, plaintext: string, fixed?: { readonly ephemeral: ECDH; readonly salt: Buffer }): Buffer {
  const receiver = Buffer.from(p256dh, 'base64url');
  const authSecret = Buffer.from(auth, 'base64url');
  if (receiver.length !== 65 || receiver[0] !== 0x04) throw new Error('p256dh is not an uncompressed P-256 public key');
  if (authSecret.length !== 16) throw new Error('auth is not a 16-byte secret');
  const content = Buffer.from(plaintext, 'utf8');
  if (content.length > MAX_WEB_PUSH_PLAINTEXT) throw new Error(`a push message carries at most ${MAX_WEB_PUSH_PLAINTEXT} bytes`);

  const ephemeral = fixed?.ephemeral ?? createECDH('prime256v1');
  const sender = fixed ? ephemeral.getPublicKey() : ephemeral.generateKeys();
  // Throws for a point not on the curve, so a forged subscription key cannot leak the secret.
  const shared = ephemeral.computeSecret(receiver);
  const ikm = Buffer.from(hkdfSync('sha256', shared, authSecret, Buffer.concat([KEY_INFO, receiver, sender]), 32));
  const salt = fixed?.salt ?? randomBytes(16);
  const key = hkdfSync('sha256', ikm, salt, CEK_INFO, 16);
  const nonce = hkdfSync('sha256', ikm, salt, NONCE_INFO, 12);

  const cipher = createCipheriv('aes-128-gcm', Buffer.from(key), Buffer.from(nonce));
  // 0x02: the last (here the only) record, with no further padding.
  const sealed = [cipher.update(content), cipher.update(Buffer.from([0x02])), cipher.final(), cipher.getAuthTag()];
  const header = Buffer.alloc(HEADER_BYTES - sender.length);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header[20] = sender.length;
  return Buffer.concat([header, sender, ...sealed]);
}
