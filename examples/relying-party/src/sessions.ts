import { randomBytes } from 'node:crypto';

/**
 * Server-side sessions in memory, keyed by an unguessable cookie value. Entries expire, and the
 * store is bounded so strangers starting sign-ins cannot grow it without limit: when full, the
 * oldest entry goes first (a Map keeps insertion order).
 */
export class SessionStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(options: { ttlMs: number; max: number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max;
  }

  create(value: T): string {
    const id = randomBytes(24).toString('base64url');
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, { value, expiresAt: Date.now() + this.#ttlMs });
    return id;
  }

  get(id: string | undefined): T | undefined {
    if (!id) return undefined;
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.value;
  }

  /** Reads and removes: a sign-in transaction (state, nonce, PKCE verifier) is used once. */
  take(id: string | undefined): T | undefined {
    const value = this.get(id);
    if (id) this.#entries.delete(id);
    return value;
  }

  delete(id: string | undefined): void {
    if (id) this.#entries.delete(id);
  }
}
