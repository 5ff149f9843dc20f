import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { verifyP256 } from '../platform/p256.ts';

/**
 * A relying party's client assertion signed ES256 with a key it registered inline, checked
 * synchronously with `node:crypto`. jose checks every other assertion; this one is every
 * production session start, and jose's WebCrypto verification costs 0.1-0.18 ms more than a
 * synchronous one (docs/benchmarks.md). The rules are jose's `jwtVerify` with the options
 * `checkClientAssertion` passes; the tests hold the two to the same answers.
 */

export interface AssertionRules {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  readonly requiredClaims: readonly string[];
  readonly maxTokenAgeS: number;
  readonly clockToleranceS: number;
  /** Epoch milliseconds. */
  readonly now: number;
}

export type AssertionClaims = Record<string, unknown> & { jti?: unknown; exp?: number; iat?: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a compact JWT, read before anything about it is checked: only to find who
 * says they sent it (its `iss`, whose keys then check it). Undefined when the payload is not
 * a JSON object.
 */
export function unverifiedClaims(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split('.')[1];
  return payload === undefined ? undefined : jsonObject(payload);
}

/** The protected header, when the assertion is an ES256 compact JWS this path may check at all. */
export function es256Header(assertion: string): { kid?: string } | undefined {
  const header = jsonObject(assertion.slice(0, assertion.indexOf('.')));
  // `crit` names extensions this path does not implement (jose refuses those it does not know
  // either); `b64: false` is not a JWT. Anything else goes to jose, which refuses or checks it.
  if (!header || header.alg !== 'ES256' || 'crit' in header || 'b64' in header) return undefined;
  if (header.kid !== undefined && typeof header.kid !== 'string') return undefined;
  return header.kid === undefined ? {} : { kid: header.kid };
}

/**
 * The one registered key an ES256 header selects, as jose's local JWK set selects it (a P-256
 * key for verification, of the header's `kid` when it names one); undefined when none or more
 * than one does, for jose to answer.
 */
export function selectEs256Key(keys: readonly Record<string, unknown>[], kid: string | undefined): Record<string, unknown> | undefined {
  const usable = keys.filter((jwk) => {
    const ops = jwk.key_ops;
    return (
      jwk.kty === 'EC' &&
      jwk.crv === 'P-256' &&
      (jwk.alg === undefined || jwk.alg === 'ES256') &&
      (jwk.use === undefined || jwk.use === 'sig') &&
      (ops === undefined || (Array.isArray(ops) && ops.includes('verify') && new Set(ops).size === ops.length && ops.every((op) => typeof op === 'string'))) &&
      (jwk.ext === undefined || typeof jwk.ext === 'boolean') &&
      (kid === undefined || jwk.kid === kid)
    );
  });
  return usable.length === 1 ? usable[0] : undefined;
}

/** A registered public JWK as a key `node:crypto` verifies with; undefined if it is not one. */
export function importEs256Key(jwk: Record<string, unknown>): KeyObject | undefined {
  // Registration refuses private keys; one that got in anyway is jose's to refuse, as it does.
  if ('d' in jwk) return undefined;
  try {
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey, format: 'jwk' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The assertion's claims when its signature and claims check, undefined when they do not. */
export function verifyEs256Assertion(assertion: string, key: KeyObject, rules: AssertionRules): AssertionClaims | undefined {
  const [header, payload, signature, extra] = assertion.split('.');
  if (header === undefined || payload === undefined || signature === undefined || extra !== undefined) return undefined;
  if (!verifyP256(key, `${header}.${payload}`, signature)) return undefined;
  const claims = jsonObject(payload) as AssertionClaims | undefined;
  if (!claims) return undefined;
  for (const claim of new Set([...rules.requiredClaims, 'iat', 'aud', 'sub', 'iss'])) if (!Object.hasOwn(claims, claim)) return undefined;
  if (claims.iss !== rules.issuer || claims.sub !== rules.subject) return undefined;
  const aud = claims.aud;
  if (!(typeof aud === 'string' ? aud === rules.audience : Array.isArray(aud) && aud.includes(rules.audience))) return undefined;
  const now = Math.floor(rules.now / 1000);
  const tolerance = rules.clockToleranceS;
  const numeric = (value: unknown) => value === undefined || typeof value === 'number';
  if (!numeric(claims.iat) || !numeric(claims.nbf) || !numeric(claims.exp)) return undefined;
  if (typeof claims.nbf === 'number' && claims.nbf > now + tolerance) return undefined;
  if (typeof claims.exp === 'number' && claims.exp <= now - tolerance) return undefined;
  const age = now - (claims.iat as number);
  if (age - tolerance > rules.maxTokenAgeS || age < -tolerance) return undefined;
  return claims;
}
