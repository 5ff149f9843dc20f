import { createECDH, createPrivateKey, randomBytes } from 'node:crypto';
import { decrypt } from 'http_ece';
import { describe, expect, it } from 'vitest';
import { encryptWebPush, MAX_WEB_PUSH_PLAINTEXT } from '../../src/notify/channels/web-push-encryption.ts';

/** RFC 8291 Appendix A: the worked example, byte for byte. */
const RFC_8291 = {
  plaintext: 'When I grow up, I want to be a watermelon',
  senderPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
  receiverPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  receiverPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
  salt: 'DGv6ra1nlYgDCS1FRnbzlw',
  body:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6' +
    'cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

function receiver() {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  return { keys, p256dh: keys.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

describe('Web Push message encryption (RFC 8291, aes128gcm)', () => {
  it("reproduces the RFC's worked example exactly", () => {
    // The sender's private key as a KeyObject: its public point from Node's ECDH, then as a JWK.
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(RFC_8291.senderPrivate, 'base64url'));
    const point = ecdh.getPublicKey();
    const jwk = { kty: 'EC', crv: 'P-256', d: RFC_8291.senderPrivate, x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    const body = encryptWebPush(RFC_8291.receiverPublic, RFC_8291.auth, RFC_8291.plaintext, { privateKey, salt: Buffer.from(RFC_8291.salt, 'base64url') });
    expect(body.toString('base64url')).toBe(RFC_8291.body);
  });

  it('is decrypted by the reference implementation (http_ece), with a new key and salt every time', () => {
    const ua = receiver();
    const payload = JSON.stringify({ v: 1, type: 'wake', kind: 'auth', ref: 'as_0123456789abcdefghijkl' });
    const first = encryptWebPush(ua.p256dh, ua.auth, payload);
    const second = encryptWebPush(ua.p256dh, ua.auth, payload);
    for (const body of [first, second]) expect(decrypt(body, { version: 'aes128gcm', privateKey: ua.keys, authSecret: ua.auth }).toString()).toBe(payload);
    expect(first.subarray(0, 16).equals(second.subarray(0, 16))).toBe(false);
    expect(first.subarray(21, 86).equals(second.subarray(21, 86))).toBe(false);
  });

  it('fills one record up to the limit, and refuses a plaintext beyond it', () => {
    const ua = receiver();
    const largest = 'x'.repeat(MAX_WEB_PUSH_PLAINTEXT);
    const body = encryptWebPush(ua.p256dh, ua.auth, largest);
    expect(body.length).toBe(4096);
    expect(decrypt(body, { version: 'aes128gcm', privateKey: ua.keys, authSecret: ua.auth }).toString()).toBe(largest);
    expect(() => encryptWebPush(ua.p256dh, ua.auth, `${largest}x`)).toThrow(/at most/);
  });

  it('refuses subscription keys that are not a P-256 point and a 16-byte secret', () => {
    const ua = receiver();
    const offCurve = Buffer.from(ua.p256dh, 'base64url');
    offCurve[64]! ^= 1;
    expect(() => encryptWebPush(offCurve.toString('base64url'), ua.auth, 'x')).toThrow();
    expect(() => encryptWebPush(ua.p256dh.slice(0, 40), ua.auth, 'x')).toThrow(/P-256/);
    expect(() => encryptWebPush(ua.p256dh, randomBytes(8).toString('base64url'), 'x')).toThrow(/16-byte/);
  });
});
