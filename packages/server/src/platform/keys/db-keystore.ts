import { createCipheriv, createDecipheriv, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Db } from '../db/index.ts';
import { KeyStoreError, type KeyAlgorithm, type KeyStore, type PublicJwk } from './keystore.ts';
import './schema.ts';

const KEY_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** How long a current key is used before asking the database again (another instance may have rotated). */
export const CURRENT_KEY_TTL_MS = 60_000;

interface LoadedKey {
  readonly loadedAt: number;
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly jwk: PublicJwk;
}

/** Encrypts a private key for storage; the kid is bound in as associated data. */
export function sealPrivateKey(masterKey: Buffer, kid: string, pkcs8: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const body = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openPrivateKey(masterKey: Buffer, kid: string, sealed: Uint8Array): Buffer {
  const data = Buffer.from(sealed);
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, data.subarray(0, 12));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(data.subarray(12, 28));
    return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
  } catch (error) {
    throw new KeyStoreError(
      `service key ${kid} cannot be decrypted: the master key (TASDIQ_MASTER_KEY or <dataDir>/master.key) is not the one it was stored with`,
      { cause: error },
    );
  }
}

function generate(alg: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
}

/**
 * The database-backed key store: rows in `service_keys`, private keys sealed with the master
 * key. Decrypted keys are cached in this object only, never returned.
 */
export class DbKeyStore implements KeyStore {
  readonly #db: Db;
  readonly #masterKey: Buffer;
  readonly #now: () => number;
  readonly #current = new Map<string, LoadedKey>();

  constructor(db: Db, masterKey: Buffer, now: () => number = Date.now) {
    if (masterKey.length !== 32) throw new KeyStoreError('master key must be 32 bytes');
    this.#db = db;
    this.#masterKey = masterKey;
    this.#now = now;
  }

  async getOrCreateSigningKey(name: string, alg: KeyAlgorithm): Promise<PublicJwk> {
    const existing = await this.#load(name);
    if (existing) {
      if (existing.alg !== alg) throw new KeyStoreError(`service key ${name} exists with algorithm ${existing.alg}, not ${alg}`);
      return existing.jwk;
    }
    await this.#insertVersion(name, alg, 1);
    return (await this.#load(name, true))!.jwk;
  }

  async sign(name: string, data: Uint8Array): Promise<{ kid: string; signature: Uint8Array }> {
    const key = await this.#load(name);
    if (!key) throw new KeyStoreError(`no service key named ${name}`);
    const signature =
      key.alg === 'ES256'
        ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(null, data, key.privateKey);
    return { kid: key.kid, signature: new Uint8Array(signature) };
  }

  async publicJwk(name: string): Promise<PublicJwk> {
    const key = await this.#load(name);
    if (!key) throw new KeyStoreError(`no service key named ${name}`);
    return key.jwk;
  }

  async rotate(name: string): Promise<PublicJwk> {
    const key = await this.#load(name, true);
    if (!key) throw new KeyStoreError(`no service key named ${name}`);
    const latest = await this.#latestRow(name);
    await this.#insertVersion(name, key.alg, (latest?.version ?? 0) + 1);
    return (await this.#load(name, true))!.jwk;
  }

  async listPublicJwks(name: string): Promise<PublicJwk[]> {
    const rows = await this.#db
      .selectFrom('service_keys')
      .select(['public_jwk'])
      .where('name', '=', name)
      .where('retired_at', 'is', null)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => JSON.parse(r.public_jwk) as PublicJwk);
  }

  async retire(name: string, kid: string): Promise<void> {
    const current = await this.#load(name, true);
    if (current?.kid === kid) throw new KeyStoreError(`service key ${kid} is the current key of ${name}; rotate first`);
    await this.#db
      .updateTable('service_keys')
      .set({ retired_at: this.#now() })
      .where('kid', '=', kid)
      .where('name', '=', name)
      .where('retired_at', 'is', null)
      .execute();
  }

  async #latestRow(name: string) {
    return this.#db
      .selectFrom('service_keys')
      .selectAll()
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** The current key; cached until a refresh (after this process rotates, or on request). */
  async #load(name: string, refresh = false): Promise<LoadedKey | undefined> {
    if (!KEY_NAME.test(name)) throw new KeyStoreError(`bad key name ${JSON.stringify(name)}`);
    const cached = this.#current.get(name);
    if (cached && !refresh && this.#now() - cached.loadedAt < CURRENT_KEY_TTL_MS) return cached;
    const row = await this.#latestRow(name);
    if (!row) return undefined;
    if (cached?.kid === row.kid) {
      const renewed = { ...cached, loadedAt: this.#now() };
      this.#current.set(name, renewed);
      return renewed;
    }
    const privateKey = createPrivateKey({ key: openPrivateKey(this.#masterKey, row.kid, row.private_key), format: 'der', type: 'pkcs8' });
    const loaded: LoadedKey = { loadedAt: this.#now(), kid: row.kid, alg: row.alg as KeyAlgorithm, privateKey, jwk: JSON.parse(row.public_jwk) as PublicJwk };
    this.#current.set(name, loaded);
    return loaded;
  }

  async #insertVersion(name: string, alg: KeyAlgorithm, version: number): Promise<void> {
    const kid = `${name}.v${version}`;
    const { privateKey, publicKey } = generate(alg);
    const exported = publicKey.export({ format: 'jwk' });
    const jwk: PublicJwk = {
      kty: exported.kty!,
      crv: exported.crv!,
      x: exported.x!,
      ...(exported.y ? { y: exported.y } : {}),
      kid,
      alg,
      use: 'sig',
    };
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    try {
      // Another instance may create or rotate it at the same moment: theirs is as good. DO
      // NOTHING rather than a caught unique violation, which PostgreSQL logs as an ERROR.
      await this.#db
        .insertInto('service_keys')
        .values({
          kid,
          name,
          version,
          alg,
          public_jwk: JSON.stringify(jwk),
          private_key: sealPrivateKey(this.#masterKey, kid, pkcs8),
          created_at: this.#now(),
          retired_at: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } finally {
      pkcs8.fill(0);
    }
  }
}
