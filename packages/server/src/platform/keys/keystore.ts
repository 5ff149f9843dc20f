/**
 * Keys of the service itself (the device CA, token signers). Callers name a key and ask it
 * to sign; the private half never leaves the store, so an HSM or a cloud KMS can implement
 * the same interface later without touching callers.
 */
export type KeyAlgorithm = 'ES256' | 'EdDSA';

export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y?: string;
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly use: 'sig';
}

export interface KeyStore {
  /** The current key of that name, created on first use. */
  getOrCreateSigningKey(name: string, alg: KeyAlgorithm): Promise<PublicJwk>;
  /**
   * Signs with the current key. ES256 returns the raw 64-byte r||s form (as JWS and
   * WebCrypto use it); EdDSA the 64-byte Ed25519 signature.
   */
  sign(name: string, data: Uint8Array): Promise<{ kid: string; signature: Uint8Array }>;
  publicJwk(name: string): Promise<PublicJwk>;
  /** Makes a new current key; the previous ones stay listed (for verifiers) until retired. */
  rotate(name: string): Promise<PublicJwk>;
  /** Every key of that name not yet retired, newest first. */
  listPublicJwks(name: string): Promise<PublicJwk[]>;
  /** Stops listing an old key; the current key cannot be retired. */
  retire(name: string, kid: string): Promise<void>;
}

export class KeyStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyStoreError';
  }
}
