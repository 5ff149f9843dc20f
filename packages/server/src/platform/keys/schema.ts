/** Service keys, private halves encrypted with the master key (AES-256-GCM). */
export interface ServiceKeyTable {
  /** `<name>.v<version>`: also the JWK `kid`. */
  kid: string;
  name: string;
  version: number;
  alg: string;
  public_jwk: string;
  /** 12-byte IV || 16-byte tag || ciphertext of the PKCS#8 DER; the kid is the AAD. */
  private_key: Uint8Array;
  created_at: number;
  retired_at: number | null;
}

declare module '../db/types.ts' {
  interface Database {
    service_keys: ServiceKeyTable;
  }
}
