import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';
import type { Db } from '../platform/db/index.ts';
import type { KeyAlgorithm, KeyStore, PublicJwk } from '../platform/keys/index.ts';

/** Key-store names of the provider's token signers; ES256 first, so it is the default. */
export const SIGNING_KEYS: ReadonlyArray<{ readonly name: string; readonly alg: KeyAlgorithm }> = [
  { name: 'oidc-es256', alg: 'ES256' },
  { name: 'oidc-eddsa', alg: 'EdDSA' },
];
/** Never rotated: its deterministic Ed25519 signatures derive pairwise subjects and cookie keys. */
const DERIVATION_KEY = 'oidc-derivation';

/** Thrown when another instance rotated: the provider must reload its key set. */
export class SigningKeyRotatedError extends Error {
  constructor() {
    super('the signing key was rotated; reload the provider keys');
    this.name = 'SigningKeyRotatedError';
  }
}

/**
 * A provider signing key whose private half stays in the KeyStore: oidc-provider builds the
 * JWS and asks it for the signature. Only the current key of a name signs; older ones are
 * published in the JWKS until every token they signed has expired.
 */
class KeyStoreSigningKey extends ExternalSigningKey {
  readonly #store: KeyStore;
  readonly #name: string;
  readonly #current: boolean;

  /** Whether this key signs now (older ones are only published). */
  get current(): boolean {
    return this.#current;
  }
  readonly #publicKey: KeyObject;

  constructor(store: KeyStore, name: string, jwk: PublicJwk, current: boolean) {
    super();
    this.#store = store;
    this.#name = name;
    this.#current = current;
    this.#publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) }, format: 'jwk' });
    this.kid = jwk.kid;
    this.alg = jwk.alg;
  }

  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override async sign(data: Uint8Array): Promise<Uint8Array> {
    if (!this.#current) throw new SigningKeyRotatedError();
    const { kid, signature } = await this.#store.sign(this.#name, data);
    if (kid !== this.kid) throw new SigningKeyRotatedError();
    return signature;
  }
}

/** The provider's keys, backed by the service KeyStore. */
export class ProviderKeys {
  readonly #store: KeyStore;
  readonly #db: Db;
  readonly #now: () => number;

  constructor(store: KeyStore, db: Db, now: () => number) {
    this.#store = store;
    this.#db = db;
    this.#now = now;
  }

  /** Current keys first (oidc-provider signs with the first key of an algorithm), then older ones. */
  async signingKeys(): Promise<KeyStoreSigningKey[]> {
    const current: KeyStoreSigningKey[] = [];
    const older: KeyStoreSigningKey[] = [];
    for (const { name, alg } of SIGNING_KEYS) {
      const head = await this.#store.getOrCreateSigningKey(name, alg);
      for (const jwk of await this.#store.listPublicJwks(name)) {
        const isCurrent = jwk.kid === head.kid;
        (isCurrent ? current : older).push(new KeyStoreSigningKey(this.#store, name, jwk, isCurrent));
      }
    }
    return [...current, ...older];
  }

  /** Makes new current keys; the previous ones stay published until `retireExpired` drops them. */
  async rotate(): Promise<void> {
    const now = this.#now();
    for (const { name, alg } of SIGNING_KEYS) {
      const previous = await this.#store.getOrCreateSigningKey(name, alg);
      await this.#store.rotate(name);
      await this.#db
        .insertInto('oidc_key_rotations')
        .values({ kid: previous.kid, superseded_at: now })
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
    }
  }

  /** Unpublishes keys superseded longer ago than the longest-lived token they could have signed. */
  async retireExpired(retentionMs: number): Promise<string[]> {
    const due = await this.#db
      .selectFrom('oidc_key_rotations')
      .select('kid')
      .where('superseded_at', '<=', this.#now() - retentionMs)
      .execute();
    const retired: string[] = [];
    for (const { kid } of due) {
      for (const { name } of SIGNING_KEYS) await this.#store.retire(name, kid);
      await this.#db.deleteFrom('oidc_key_rotations').where('kid', '=', kid).execute();
      retired.push(kid);
    }
    return retired;
  }

  /** A stable secret for a purpose (pairwise subjects, cookie signing), derived inside the KeyStore. */
  async derive(purpose: string): Promise<Buffer> {
    await this.#store.getOrCreateSigningKey(DERIVATION_KEY, 'EdDSA');
    const { signature } = await this.#store.sign(DERIVATION_KEY, new TextEncoder().encode(`tasdiq:oidc:${purpose}`));
    return createHash('sha256').update(signature).digest();
  }
}
