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
  readonly key: string;
  readonly value: V;
  readonly bytes: number;
  readonly expires: number;
}

/**
 * A cache bounded by entry count, by bytes and by age, whatever its callers put in it: the oldest
 * entries go first when a bound is hit. Every entry lives `maxAgeMs`, so insertion order is also
 * expiry order: entries are kept in a queue (an array with a moving head) beside the Map, and
 * expired ones are always at its front. (Not the Map's own order: taking the first key of a Map
 * after many deletions at its front walks over every deleted slot.) An unref'd timer, armed only
 * while the cache holds something, drops expired entries even when no traffic comes, so an idle
 * proxy gives back what a burst made it hold.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #bounds: CacheBounds;
  readonly #clock: () => number;
  /** Entries in insertion order from #head on; some may since have been replaced or deleted. */
  #queue: Entry<V>[] = [];
  #head = 0;
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
      this.#dropOldest();
    }
    const entry: Entry<V> = { key: detached(key), value, bytes: weight, expires: now + this.#bounds.maxAgeMs };
    this.#entries.set(entry.key, entry);
    this.#queue.push(entry);
    // Slots of replaced entries wait behind live ones: never let them outnumber the bound.
    if (this.#queue.length - this.#head > 2 * this.#bounds.maxEntries + 1024) {
      this.#queue = this.#queue.slice(this.#head).filter((e) => this.#entries.get(e.key) === e);
      this.#head = 0;
    }
    this.#bytes += weight;
    this.#arm(now);
    return true;
  }

  /** Drops expired entries (all at the front). */
  prune(now = this.#clock()): void {
    for (let first = this.#front(); first !== undefined && first.expires <= now; first = this.#front()) this.#dropOldest();
  }

  clear(): void {
    this.#entries.clear();
    this.#queue = [];
    this.#head = 0;
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

  /** The oldest live entry, skipping (and forgetting) queue slots of replaced or deleted ones. */
  #front(): Entry<V> | undefined {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head] as Entry<V>;
      if (this.#entries.get(entry.key) === entry) return entry;
      this.#advance();
    }
    return undefined;
  }

  #dropOldest(): void {
    const entry = this.#front();
    if (entry === undefined) return;
    this.#advance();
    this.#entries.delete(entry.key);
    this.#bytes -= entry.bytes;
  }

  /** Moves the head on; compacts the array once half of it is behind the head. */
  #advance(): void {
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #arm(now: number): void {
    if (this.#timer !== null) return;
    const first = this.#front();
    if (first === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.prune(this.#clock());
        this.#arm(this.#clock());
      },
      // Not sooner than a fraction of the age, so a steady stream of entries does not mean a timer per entry.
      Math.max(first.expires - now, Math.min(1000, this.#bounds.maxAgeMs / 4)),
    );
    this.#timer.unref();
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
