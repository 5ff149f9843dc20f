import { importJWK } from 'jose';
import type { FieldProblem } from '../platform/errors.ts';
import { isPrintableText } from '../platform/text.ts';

/**
 * The public keys a relying party registers inline (`jwks`): each one imported with jose, so a
 * key the provider could never verify with is refused at registration, not at the first sign-in.
 */

/** Members that only a private (or symmetric) JWK has: a registration carrying one leaked the key. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

export const MAX_KEYS = 10;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
/** The signing algorithm each accepted key type verifies: FAPI 2.0's three (PS256, ES256, EdDSA). */
const ALGORITHMS = { RSA: 'PS256', 'P-256': 'ES256', Ed25519: 'EdDSA' } as const;
const EC_CURVES = ['P-256'] as const;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytesOf(value: unknown): Buffer | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2800 || !BASE64URL.test(value)) return null;
  const bytes = Buffer.from(value, 'base64url');
  // Canonical encoding only: two spellings of one key would defeat comparisons of keys.
  return bytes.toString('base64url') === value ? bytes : null;
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/** What the key should be used with, or a problem; the key's own `alg` must agree. */
function expectedAlgorithm(key: Record<string, unknown>, at: string, problems: FieldProblem[]): string | null {
  const add = (code: string, message: string) => problems.push({ field: at, code, message });
  if (key.kty === 'RSA') {
    const n = bytesOf(key.n);
    const e = bytesOf(key.e);
    if (!n || !e || e.length > 8) {
      add('jwk_invalid', 'an RSA key needs base64url "n" and "e"');
      return null;
    }
    const exponent = toBigInt(e);
    if (exponent < 65537n || exponent % 2n === 0n) {
      add('jwk_rsa_exponent', 'the RSA public exponent must be odd and at least 65537');
      return null;
    }
    return ALGORITHMS.RSA;
  }
  if (key.kty === 'EC') {
    if (key.crv === undefined) {
      add('jwk_crv_missing', 'an EC key needs "crv": P-256');
      return null;
    }
    if (!(EC_CURVES as readonly unknown[]).includes(key.crv)) {
      add('jwk_crv_unsupported', 'EC keys must be on P-256 (ES256, as FAPI 2.0 allows)');
      return null;
    }
    if (!bytesOf(key.x) || !bytesOf(key.y)) {
      add('jwk_invalid', 'an EC key needs base64url "x" and "y"');
      return null;
    }
    // Whether (x, y) is a point of the curve is checked by the import below.
    return ALGORITHMS[key.crv as (typeof EC_CURVES)[number]];
  }
  if (key.crv === undefined) {
    add('jwk_crv_missing', 'an OKP key needs "crv": Ed25519');
    return null;
  }
  if (key.crv !== 'Ed25519') {
    add('jwk_crv_unsupported', 'OKP keys must be Ed25519 (X25519 and Ed448 are not accepted)');
    return null;
  }
  return ALGORITHMS.Ed25519;
}

/** One key's problems, or none; `at` names it (`jwks.keys.0`). */
async function checkKey(key: unknown, at: string, problems: FieldProblem[]): Promise<void> {
  const add = (code: string, message: string, field = at) => problems.push({ field, code, message });
  if (!isRecord(key) || typeof key.kty !== 'string') {
    add('jwk_invalid', 'expected a JSON Web Key with "kty"');
    return;
  }
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
  if (privateMembers.length > 0) {
    // The names of the members only, never their values.
    add('jwk_private', `contains private key material (${privateMembers.join(', ')}); register the public key only and replace this key: it is no longer secret`);
    return;
  }
  if (!['EC', 'OKP', 'RSA'].includes(key.kty)) {
    add('jwk_kty_unsupported', 'expected an EC (P-256), OKP (Ed25519) or RSA (2048 bits or more) public key');
    return;
  }
  const before = problems.length;
  if (key.use !== undefined && key.use !== 'sig') {
    add('jwk_use_invalid', 'only signature keys ("use": "sig") are accepted: Tasdiq does not encrypt to relying parties', `${at}.use`);
  }
  if (key.key_ops !== undefined && (!Array.isArray(key.key_ops) || key.key_ops.length === 0 || key.key_ops.some((op) => op !== 'verify'))) {
    add('jwk_key_ops_invalid', 'a public signature key\'s "key_ops" can only be ["verify"]', `${at}.key_ops`);
  }
  if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid.length === 0 || key.kid.length > 200 || !isPrintableText(key.kid))) {
    add('jwk_kid_invalid', 'expected a key id of 1 to 200 printable characters', `${at}.kid`);
  }
  const alg = expectedAlgorithm(key, at, problems);
  if (alg === null) return;
  if (key.alg !== undefined && key.alg !== alg) {
    const message = key.kty === 'RSA' ? 'RSA keys are used with PS256 here (RS256 is not accepted)' : `a ${String(key.crv)} key is used with ${alg}`;
    add('jwk_alg_mismatch', `"alg" ${JSON.stringify(String(key.alg).slice(0, 32))} does not fit this key: ${message}`, `${at}.alg`);
  }
  if (problems.length > before) return;
  let imported: Awaited<ReturnType<typeof importJWK>>;
  try {
    imported = await importJWK(key as Parameters<typeof importJWK>[0], alg);
  } catch (error) {
    add('jwk_invalid', `the key could not be imported: ${(error as Error).message}`);
    return;
  }
  if (key.kty === 'RSA') {
    const bits = (imported as { algorithm?: { modulusLength?: number } }).algorithm?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      add('jwk_rsa_size', `RSA keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits; this one has ${bits}`);
    }
  }
}

/**
 * Checks an inline JWKS: 1 to 10 public signature keys (RSA of 2048 bits or more for PS256,
 * EC P-256 with "crv", Ed25519), none with private members, each importable, `use` and
 * `alg` consistent with the key, and distinct key ids (required once there are several keys,
 * so that rotation can name which key signed).
 */
export async function checkJwks(value: unknown, problems: FieldProblem[]): Promise<{ keys: Record<string, unknown>[] } | null> {
  if (value === undefined || value === null) return null;
  if (!isRecord(value) || !Array.isArray(value.keys) || value.keys.length === 0 || value.keys.length > MAX_KEYS) {
    problems.push({ field: 'jwks', code: 'jwks_invalid', message: `expected {"keys": [...]} with 1 to ${MAX_KEYS} public keys` });
    return null;
  }
  const extra = Object.keys(value).filter((k) => k !== 'keys');
  if (extra.length > 0) problems.push({ field: 'jwks', code: 'jwks_invalid', message: `unexpected members: ${extra.join(', ')}` });
  const keys = value.keys as unknown[];
  for (const [i, key] of keys.entries()) await checkKey(key, `jwks.keys.${i}`, problems);
  const kids = keys.map((k) => (isRecord(k) ? k.kid : undefined));
  if (keys.length > 1 && kids.some((kid) => kid === undefined)) {
    problems.push({ field: 'jwks', code: 'jwk_kid_required', message: 'with several keys each one needs a "kid"' });
  }
  const seen = new Set<unknown>();
  kids.forEach((kid, i) => {
    if (kid === undefined) return;
    if (seen.has(kid)) problems.push({ field: `jwks.keys.${i}.kid`, code: 'jwk_kid_duplicate', message: `key id ${JSON.stringify(kid)} is used twice` });
    seen.add(kid);
  });
  return { keys: keys.filter(isRecord) };
}
