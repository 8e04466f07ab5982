/**
 * The keys seen lately, in two generations of a Set: adding costs one Set insertion, and the older
 * generation is dropped whole when the newer one is full or old. A key is remembered at least
 * until `perGeneration` newer keys or `maxAgeMs` have come, at most twice that. For the hot path,
 * where a cache with per-entry expiry (BoundedCache) would cost more than the work it spares.
 */
export class RecentKeys {
  #current = new Set<string>();
  #previous = new Set<string>();
  #since: number;

  constructor(
    private readonly perGeneration: number,
    private readonly maxAgeMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.#since = clock();
  }

  add(key: string): void {
    if (this.#current.size >= this.perGeneration || this.clock() - this.#since >= this.maxAgeMs) {
      this.#previous = this.#current;
      this.#current = new Set();
      this.#since = this.clock();
    }
    this.#current.add(key);
  }

  has(key: string): boolean {
    return this.#current.has(key) || this.#previous.has(key);
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
