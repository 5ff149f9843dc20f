/**
 * WebCrypto type names, derived from the global `crypto` so that the same source compiles
 * against Node's declarations (server, CLI) and the DOM library (the web app) alike.
 */
export type CryptoKey = Awaited<ReturnType<(typeof globalThis.crypto.subtle)['importKey']>>;

/** The members of a P-256 JWK the simulator stores; assignable to both libraries' JsonWebKey. */
export interface JsonWebKey {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  ext?: boolean;
}
