import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalRequest, sha256Hex } from '../../src/devices/canonical.ts';
import { qrAuthCode, verificationCode } from '../../src/auth/codes.ts';
import { canonicalRequest as clientCanonical, verificationCode as clientVerificationCode } from '../../../client/src/index.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../../../docs/device-protocol.md'), 'utf8');
const block = /```json example\n([\s\S]*?)\n```/.exec(doc);

interface Example {
  privateKeyJwk: { kty: string; crv: string; x: string; y: string; d: string };
  authKey: string;
  method: string;
  path: string;
  deviceId: string;
  counter: number;
  timestamp: number;
  body: string;
  bodySha256: string;
  canonical: string;
  signature: string;
  signingInput: string;
  challengeHash: string;
  sha256OfChallengeHash: string;
  verificationCode: string;
  qrStartSecret: string;
  qrSessionId: string;
  qrElapsedSeconds: number;
  qrAuthCode: string;
}

describe('docs/device-protocol.md worked example', () => {
  const ex = JSON.parse(block![1]!) as Example;

  it('its canonical string, body hash and signature are what the server computes and accepts', async () => {
    const input = { method: ex.method, path: ex.path, deviceId: ex.deviceId, counter: ex.counter, timestamp: ex.timestamp, body: ex.body };
    expect(sha256Hex(ex.body)).toBe(ex.bodySha256);
    expect(canonicalRequest(input)).toBe(ex.canonical);
    expect(await clientCanonical(input)).toBe(ex.canonical);
    const key = createPublicKey({ key: Buffer.from(ex.authKey, 'base64url'), format: 'der', type: 'spki' });
    expect(createPublicKey(createPrivateKey({ key: ex.privateKeyJwk, format: 'jwk' })).export({ type: 'spki', format: 'der' }).toString('base64url')).toBe(ex.authKey);
    expect(verify('sha256', Buffer.from(ex.canonical), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(ex.signature, 'base64url'))).toBe(true);
    expect(verify('sha256', Buffer.from(ex.canonical.replace('\n17\n', '\n18\n')), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(ex.signature, 'base64url'))).toBe(false);
  });

  it('its verification code and QR code follow the documented formulas', async () => {
    const challengeHash = createHash('sha256').update(ex.signingInput).digest();
    expect(challengeHash.toString('hex')).toBe(ex.challengeHash);
    expect(createHash('sha256').update(challengeHash).digest('hex')).toBe(ex.sha256OfChallengeHash);
    expect(String(parseInt(ex.sha256OfChallengeHash.slice(-4), 16) % 10000).padStart(4, '0')).toBe(ex.verificationCode);
    expect(verificationCode(challengeHash)).toBe(ex.verificationCode);
    expect(await clientVerificationCode(ex.signingInput)).toBe(ex.verificationCode);
    expect(qrAuthCode(ex.qrStartSecret, ex.qrSessionId, ex.qrElapsedSeconds)).toBe(ex.qrAuthCode);
  });
});
