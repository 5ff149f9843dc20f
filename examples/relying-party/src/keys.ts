import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { CryptoKey } from 'openid-client';

export interface ClientKey {
  /** Signs private_key_jwt client assertions; never leaves this process. */
  readonly privateKey: CryptoKey;
  /** Goes into the client registration (`jwks`), so Tasdiq can check the assertions. */
  readonly publicJwk: JWK;
}

const ALG = 'ES256';

async function fromJwk(privateJwk: JWK): Promise<ClientKey> {
  if (!privateJwk.d) throw new Error('the client key must be a private JWK (with "d")');
  const privateKey = (await importJWK({ ...privateJwk, alg: ALG }, ALG)) as CryptoKey;
  const { d: _d, ...publicJwk } = privateJwk;
  return { privateKey, publicJwk: { ...publicJwk, alg: ALG, use: 'sig' } };
}

/**
 * The service's signing key: from RP_PRIVATE_JWK when the deployment provides one, otherwise
 * from a file created on first start (mode 0600), so a restart keeps the key Tasdiq knows.
 */
export async function loadClientKey(options: { jwk?: string | undefined; file: string }): Promise<ClientKey> {
  if (options.jwk) return fromJwk(JSON.parse(options.jwk) as JWK);
  if (existsSync(options.file)) return fromJwk(JSON.parse(readFileSync(options.file, 'utf8')) as JWK);
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `rp-${Date.now().toString(36)}` };
  mkdirSync(dirname(options.file), { recursive: true });
  writeFileSync(options.file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
  return fromJwk(jwk);
}
