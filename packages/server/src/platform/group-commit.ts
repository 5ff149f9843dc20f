/**
 * Group commit: items added while a flush runs wait and go together in the next one, so a
 * burst of N outcomes costs a handful of transactions (and fsyncs) instead of N. A lone item
 * is flushed at once with no timer adding latency, unless `lingerMs` asks a group to wait that
 * long for company: for records nobody waits on, where fewer statements matter more.
 */
export class GroupCommit<T, R> {
  readonly #flush: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #draining: Promise<void> | undefined;
  /** Ends a linger early: the batch filled up. */
  #full: (() => void) | undefined;

  constructor(flush: (items: T[]) => Promise<R[]>, options: { maxBatch?: number; lingerMs?: number } = {}) {
    this.#flush = flush;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#lingerMs = options.lingerMs ?? 0;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.#full?.();
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once everything added so far is flushed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Waits lingerMs, or until the batch is full. */
  #linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#full = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#lingerMs);
      this.#full = done;
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        if (this.#lingerMs > 0 && this.#queue.length < this.#maxBatch) await this.#linger();
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const results = await this.#flush(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
