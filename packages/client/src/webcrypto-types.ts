/**
 * WebCrypto type names. The repository compiles without the DOM library, so they are taken
 * from Node's declarations; the import is type-only and vanishes in a browser build.
 */
import type { webcrypto } from 'node:crypto';

export type CryptoKey = webcrypto.CryptoKey;
export type JsonWebKey = webcrypto.JsonWebKey;
