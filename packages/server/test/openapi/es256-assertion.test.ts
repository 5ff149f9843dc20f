import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { es256Header, importEs256Key, selectEs256Key, unverifiedClaims, verifyEs256Assertion, type AssertionRules } from '../../src/openapi/es256-assertion.ts';

const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const AUD = 'https://id.example/api/v1/auth/sessions';
const RULES: AssertionRules = { issuer: 'rp', subject: 'rp', audience: AUD, requiredClaims: ['exp', 'iat', 'jti'], maxTokenAgeS: 60, clockToleranceS: 5, now: NOW_MS };

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = pair();
const stranger = pair();
const jwkOf = (publicKey: KeyObject, extra: Record<string, unknown> = {}) => ({ ...publicKey.export({ format: 'jwk' }), ...extra });

/** A compact JWS over exactly these header and payload segments, signed ES256 by `key`. */
function jws(header: unknown, payload: unknown, key: KeyObject = signer.privateKey, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): string {
  const input = `${b64(header)}.${typeof payload === 'string' && payload.startsWith('raw:') ? Buffer.from(payload.slice(4)).toString('base64url') : b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({ iss: 'rp', sub: 'rp', aud: AUD, iat: NOW, exp: NOW + 60, jti: 'jti-0123456789abcdef', ...extra });
const without = (claim: string) => Object.fromEntries(Object.entries(claims()).filter(([name]) => name !== claim));
const ES256 = { alg: 'ES256', kid: 'k1' };

/** What jose's jwtVerify says, with the options checkClientAssertion gives it. */
async function joseAccepts(token: string, keys: Record<string, unknown>[]): Promise<boolean> {
  const options = { issuer: 'rp', subject: 'rp', audience: AUD, algorithms: ['ES256', 'PS256', 'EdDSA'], requiredClaims: ['exp', 'iat', 'jti'], maxTokenAge: 60, currentDate: new Date(NOW_MS), clockTolerance: 5 };
  return jwtVerify(token, createLocalJWKSet({ keys } as never), options).then(
    () => true,
    () => false,
  );
}

/** What the synchronous path says, or 'jose' where it leaves the assertion to jose. */
function syncAccepts(token: string, keys: Record<string, unknown>[]): boolean | 'jose' {
  const header = es256Header(token);
  const jwk = header && selectEs256Key(keys, header.kid);
  const key = jwk && importEs256Key(jwk);
  return key ? verifyEs256Assertion(token, key, RULES) !== undefined : 'jose';
}

describe('client assertions checked synchronously (ES256, inline keys)', () => {
  const registered = [jwkOf(signer.publicKey, { kid: 'k1', alg: 'ES256', use: 'sig' })];
  const tamper = (token: string) => {
    const [h, , s] = token.split('.');
    return `${h}.${b64(claims({ jti: 'jti-someone-elses-0000' }))}.${s}`;
  };
  const cases: Array<[name: string, token: string, accepted: boolean, keys?: Record<string, unknown>[]]> = [
    ['a valid assertion', jws(ES256, claims()), true],
    ['no kid, one key', jws({ alg: 'ES256' }, claims()), true],
    ['an audience array naming this endpoint', jws(ES256, claims({ aud: ['https://other.example', AUD] })), true],
    ['expired within the clock tolerance', jws(ES256, claims({ exp: NOW - 3 })), true],
    ['issued a little in the future, within the tolerance', jws(ES256, claims({ iat: NOW + 3 })), true],
    ['63 s old: within the maximum age and the tolerance', jws(ES256, claims({ iat: NOW - 63 })), true],
    ['not before a moment ago', jws(ES256, claims({ nbf: NOW + 3 })), true],
    ['an exp of 1e999 (Infinity)', jws(ES256, `raw:${JSON.stringify(claims()).replace(`"exp":${NOW + 60}`, '"exp":1e999')}`), true],
    ['another audience', jws(ES256, claims({ aud: 'https://id.example/api/v1/sign/sessions' })), false],
    ['an audience array without this endpoint', jws(ES256, claims({ aud: ['https://other.example'] })), false],
    ['another issuer', jws(ES256, claims({ iss: 'rp2' })), false],
    ['another subject', jws(ES256, claims({ sub: 'rp2' })), false],
    ['no subject', jws(ES256, without('sub')), false],
    ['no exp', jws(ES256, without('exp')), false],
    ['no iat', jws(ES256, without('iat')), false],
    ['no jti', jws(ES256, without('jti')), false],
    ['expired', jws(ES256, claims({ exp: NOW - 10 })), false],
    ['exp as a string', jws(ES256, claims({ exp: String(NOW + 60) })), false],
    ['too old', jws(ES256, claims({ iat: NOW - 70 })), false],
    ['issued in the future', jws(ES256, claims({ iat: NOW + 10 })), false],
    ['not yet valid', jws(ES256, claims({ nbf: NOW + 10 })), false],
    ['nbf as a string', jws(ES256, claims({ nbf: 'soon' })), false],
    ['a payload that is not the one signed', tamper(jws(ES256, claims())), false],
    ['signed by another key', jws(ES256, claims(), stranger.privateKey), false],
    ['a DER signature instead of r || s', jws(ES256, claims(), signer.privateKey, 'der'), false],
    ['a truncated signature', jws(ES256, claims()).slice(0, -4), false],
    ['a payload that is a JSON array', jws(ES256, [claims()]), false],
    ['a payload that is not JSON', jws(ES256, 'raw:{"iss":'), false],
    ['a payload that is not UTF-8', `${b64(ES256)}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${jws(ES256, claims()).split('.')[2]}`, false],
    // Left to jose, which refuses them.
    ['alg none', `${b64({ alg: 'none' })}.${b64(claims())}.`, false],
    ['alg HS256', jws({ alg: 'HS256', kid: 'k1' }, claims()), false],
    ['a critical header extension', jws({ ...ES256, crit: ['exp'], exp: 1 }, claims()), false],
    ['b64: false', jws({ ...ES256, b64: false, crit: ['b64'] }, claims()), false],
    ['an unknown kid', jws({ alg: 'ES256', kid: 'k2' }, claims()), false],
    ['no kid, two keys (jose refuses the ambiguity)', jws({ alg: 'ES256' }, claims()), false, [jwkOf(stranger.publicKey), jwkOf(signer.publicKey)]],
    ['a registered key for ES384 only', jws({ alg: 'ES256' }, claims()), false, [jwkOf(signer.publicKey, { alg: 'ES384' })]],
    ['a registered key for encryption', jws({ alg: 'ES256' }, claims()), false, [jwkOf(signer.publicKey, { use: 'enc' })]],
    ['a private key registered by mistake', jws({ alg: 'ES256' }, claims()), false, [signer.privateKey.export({ format: 'jwk' }) as Record<string, unknown>]],
  ];

  it.each(cases)('%s: the answer jose gives', async (_name, token, accepted, keys = registered) => {
    expect(await joseAccepts(token, keys)).toBe(accepted);
    const sync = syncAccepts(token, keys);
    if (sync !== 'jose') expect(sync).toBe(accepted);
  });

  it('decides itself every ES256 assertion whose header selects one registered key, and leaves the rest to jose', () => {
    const paths = cases.map(([name, token, , keys = registered]) => [name, syncAccepts(token, keys) === 'jose' ? 'jose' : 'sync']);
    expect(paths.filter(([, path]) => path === 'jose').map(([name]) => name)).toEqual([
      'alg none',
      'alg HS256',
      'a critical header extension',
      'b64: false',
      'an unknown kid',
      'no kid, two keys (jose refuses the ambiguity)',
      'a registered key for ES384 only',
      'a registered key for encryption',
      'a private key registered by mistake',
    ]);
  });

  it('imports only P-256 public keys', () => {
    expect(importEs256Key(jwkOf(signer.publicKey))?.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(importEs256Key({ ...jwkOf(p384), crv: 'P-256' })).toBeUndefined();
    expect(importEs256Key({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' })).toBeUndefined();
  });

  it('reads the claims that name the sender before checking anything, as jose decodes them', () => {
    const token = `${b64({ alg: 'ES256' })}.${b64({ iss: 'rp', jti: 'x' })}.sig`;
    expect(unverifiedClaims(token)).toEqual({ iss: 'rp', jti: 'x' });
    for (const payload of [b64('[1]'), b64('"rp"'), b64('null'), b64('{'), Buffer.from([0xff, 0xfe]).toString('base64url')]) {
      expect(unverifiedClaims(`${b64({ alg: 'ES256' })}.${payload}.sig`)).toBeUndefined();
    }
    expect(unverifiedClaims('no-dots')).toBeUndefined();
  });
});
