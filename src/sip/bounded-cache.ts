export interface CacheBounds {
  readonly maxEntries: number;
  /** Sum of what `set` was told each entry weighs, plus the key and a fixed overhead. */
  readonly maxBytes: number;
  /** Entries older than this are gone: `get` misses them and a timer drops them. */
  readonly maxAgeMs: number;
}

/** A rough per-entry cost of the Map slot and the record, so that tiny entries count too. */
const ENTRY_OVERHEAD = 64;

interface Entry<V> {
  readonly value: V;
  readonly bytes: number;
  readonly expires: number;
}

/**
 * A cache bounded by entry count, by bytes and by age, whatever its callers put in it: the oldest
 * entries go first when a bound is hit. Every entry lives `maxAgeMs`, so the Map's insertion order
 * (a `set` re-inserts) is also expiry order and expired entries are always at the front. An
 * unref'd timer, armed only while the cache holds something, drops them even when no traffic
 * comes, so an idle proxy gives back what a burst made it hold.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #bounds: CacheBounds;
  readonly #clock: () => number;
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(bounds: CacheBounds, clock: () => number = Date.now) {
    this.#bounds = bounds;
    this.#clock = clock;
  }

  get(key: string, now = this.#clock()): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= now) {
      this.prune(now);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value`, which weighs `bytes`; false (nothing stored) when it alone exceeds the byte bound. */
  set(key: string, value: V, bytes: number, now = this.#clock()): boolean {
    this.#delete(key);
    const weight = bytes + key.length + ENTRY_OVERHEAD;
    if (weight > this.#bounds.maxBytes) return false;
    this.prune(now);
    while (this.#entries.size > 0 && (this.#entries.size >= this.#bounds.maxEntries || this.#bytes + weight > this.#bounds.maxBytes)) {
      this.#deleteOldest();
    }
    this.#entries.set(detached(key), { value, bytes: weight, expires: now + this.#bounds.maxAgeMs });
    this.#bytes += weight;
    this.#arm(now);
    return true;
  }

  /** Drops expired entries (all at the front). */
  prune(now = this.#clock()): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) break;
      this.#delete(key);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #arm(now: number): void {
    if (this.#timer !== null) return;
    const first = this.#entries.values().next();
    if (first.done === true) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.prune(this.#clock());
      this.#arm(this.#clock());
      // Not sooner than a fraction of the age, so a steady stream of entries does not mean a timer per entry.
    }, Math.max(first.value.expires - now, Math.min(1000, this.#bounds.maxAgeMs / 4)));
    this.#timer.unref();
  }

  #deleteOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) this.#delete(oldest.value);
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

/**
 * A copy of `key` that does not keep alive the string it was cut from: V8 represents a substring
 * as a slice of its parent, so a 20-byte flow token cut from a 60 KB header and kept as a Map key
 * would keep the 60 KB. Concatenating flattens into a new string, of which the slice is a part.
 */
function detached(key: string): string {
  return (' ' + key).slice(1);
}
