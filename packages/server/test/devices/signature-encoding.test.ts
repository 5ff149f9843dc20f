import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p1363ToDer, verifyP256 } from '../../src/platform/p256.ts';

/** r || s from a DER Ecdsa-Sig-Value, read here independently of the code under test. */
function derToP1363(der: Buffer): Buffer {
  expect(der[0]).toBe(0x30);
  const out = Buffer.alloc(64);
  let at = 2;
  for (const offset of [0, 32]) {
    expect(der[at]).toBe(0x02);
    const length = der[at + 1]!;
    const value = der.subarray(at + 2, at + 2 + length);
    const trimmed = value[0] === 0 && value.length > 1 ? value.subarray(1) : value;
    trimmed.copy(out, offset + 32 - trimmed.length);
    at += 2 + length;
  }
  expect(at).toBe(der.length);
  return out;
}

describe('P-256 signatures as devices send them (r || s)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('re-encodes to exactly the DER OpenSSL produces, short integers and high bits included', () => {
    let short = 0;
    let padded = 0;
    for (let i = 0; i < 3000; i++) {
      const der = sign('sha256', Buffer.from(`message ${i}`), privateKey);
      const raw = derToP1363(der);
      if (raw[0] === 0 || raw[32] === 0) short++;
      if (raw[0]! & 0x80 || raw[32]! & 0x80) padded++;
      expect(p1363ToDer(raw).equals(der)).toBe(true);
    }
    // The cases that need care did occur (each about 1 in 128 and 3 in 4 of signatures).
    expect(short).toBeGreaterThan(0);
    expect(padded).toBeGreaterThan(1000);
  });

  it('verifies a good signature and refuses a changed message, signature or length', () => {
    const message = 'POST\n/api/v1/device/auth/as_x/confirm\n1\n2\nbody';
    const signature = sign('sha256', Buffer.from(message), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    expect(verifyP256(publicKey, message, signature)).toBe(true);
    expect(verifyP256(publicKey, `${message}.`, signature)).toBe(false);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10]! ^= 1;
    expect(verifyP256(publicKey, message, flipped.toString('base64url'))).toBe(false);
    expect(verifyP256(publicKey, message, Buffer.alloc(64).toString('base64url'))).toBe(false);
    expect(verifyP256(publicKey, message, Buffer.alloc(63, 1).toString('base64url'))).toBe(false);
  });
});
