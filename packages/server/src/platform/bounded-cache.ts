/**
 * An in-process cache of values that do not change while they are kept (immutable rows, parsed
 * keys), bounded in entries and, per entry, in time. When full it drops the oldest tenth at
 * once (insertion order), rather than paying an eviction on every insert. Each read also drops
 * up to two expired entries from the oldest end, so a cache whose entries live seconds holds
 * about what those seconds brought, not `maxEntries` of them long dead.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; until: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(key: K, now: number): V | undefined {
    this.#dropExpiredOldest(now);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` until the epoch-millisecond time `until` (Infinity: until evicted). */
  set(key: K, value: V, until = Infinity): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      let drop = Math.ceil(this.#maxEntries / 10);
      for (const old of this.#entries.keys()) {
        this.#entries.delete(old);
        if (--drop === 0) break;
      }
    }
    this.#entries.set(key, { value, until });
  }

  #dropExpiredOldest(now: number): void {
    let budget = 2;
    for (const [key, entry] of this.#entries) {
      if (entry.until > now || budget-- === 0) return;
      this.#entries.delete(key);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
