/**
 * Group commit: items added while a flush runs wait and go together in the next one, so a
 * burst of N outcomes costs a handful of transactions (and fsyncs) instead of N, while a
 * lone item is flushed at once with no timer adding latency.
 */
export class GroupCommit<T, R> {
  readonly #flush: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #draining: Promise<void> | undefined;

  constructor(flush: (items: T[]) => Promise<R[]>, maxBatch = 200) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once everything added so far is flushed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
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
