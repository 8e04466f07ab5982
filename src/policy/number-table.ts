/**
 * A hash table from virtual-number strings to five int32 fields (user id, root id, group rank,
 * user rank, flags), laid out flat in one Int32Array: open addressing, linear probing, backward-shift
 * deletion, at most half full.
 *
 * Why not `Map<string, object>`: with a million numbers a Map lookup is a chain of dependent
 * random memory reads — bucket, entry, key string, value object — and each is a cache and TLB
 * miss (~150 ns on our 2-core VMs), which made a decision cost about a microsecond. A digit string
 * (what virtual numbers are) of up to 15 digits is encoded exactly into two int32s and compared in
 * place, so a lookup is one miss. Any other string (letters, '+', longer) is hashed and verified
 * against the stored string. It also keeps a million numbers off the garbage-collected heap.
 */

/**
 * Fields per slot: key high word (0 = free), key low word, the record, one spare: 32 bytes, so a
 * slot never straddles a cache line.
 */
const STRIDE = 8;
const USER_ID = 2;
const ROOT_ID = 3;
const GROUP_RANK = 4;
const USER_RANK = 5;
const FLAGS = 6;
/** High word of a key that is not a digit string: the low word is its FNV-1a hash. */
const STRING_KEY = -1;
const TWO_32 = 4294967296;

/** lowbias32 finaliser over both words: sequential numbers must not cluster under linear probing. */
function mix(hi: number, lo: number): number {
  let h = Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ lo;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function isInt32(n: number): boolean {
  return (n | 0) === n;
}

export class NumberTable {
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  /** The strings of keys that are not digit strings, by slot (rare: kept in a Map). */
  private readonly others = new Map<number, string>();
  /** The last encoded key: two words returned without allocating a pair. */
  private hi = 0;
  private lo = 0;

  /** `expected`: entries to make room for; `minCapacity` (a power of two) lets tests force growth. */
  constructor(expected = 0, minCapacity = 1024) {
    let capacity = minCapacity;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The record offset of `number` for the `…At` readers, or -1. */
  find(number: string): number {
    this.encode(number);
    const p = this.probe(number);
    return p < 0 ? -1 : p * STRIDE;
  }

  userIdAt(at: number): number {
    return this.slots[at + USER_ID] as number;
  }

  rootIdAt(at: number): number {
    return this.slots[at + ROOT_ID] as number;
  }

  groupRankAt(at: number): number {
    return this.slots[at + GROUP_RANK] as number;
  }

  userRankAt(at: number): number {
    return this.slots[at + USER_RANK] as number;
  }

  /** Caller-defined bits stored with the record. */
  flagsAt(at: number): number {
    return this.slots[at + FLAGS] as number;
  }

  /** Adds or overwrites `number`. Ids must be int32 (SQLite rowids of this size are not expected). */
  set(number: string, userId: number, rootId: number, groupRank: number, userRank: number, flags = 0): void {
    if (!isInt32(userId) || !isInt32(rootId)) throw new RangeError(`ids of number ${number} out of int32 range`);
    this.encode(number);
    let p = this.probe(number);
    if (p < 0) {
      if ((this.count + 1) * 2 > this.mask + 1) {
        this.grow();
        p = this.probe(number);
      }
      p = -1 - p;
      this.count++;
      if (this.hi === STRING_KEY) this.others.set(p, number);
    }
    const at = p * STRIDE;
    const s = this.slots;
    s[at] = this.hi;
    s[at + 1] = this.lo;
    s[at + USER_ID] = userId;
    s[at + ROOT_ID] = rootId;
    s[at + GROUP_RANK] = groupRank;
    s[at + USER_RANK] = userRank;
    s[at + FLAGS] = flags;
  }

  /** Removes `number` if its record belongs to `rootId` (another tree may have taken it since). */
  delete(number: string, rootId: number): boolean {
    this.encode(number);
    const p = this.probe(number);
    if (p < 0 || this.slots[p * STRIDE + ROOT_ID] !== rootId) return false;
    this.removeSlot(p);
    return true;
  }

  /**
   * The key words of the number last passed to `set`, `find` or `delete`, for a caller that keeps
   * the two int32s instead of the string: true for a digit string, false for any other string
   * (keep the string then).
   */
  lastKey(out: { hi: number; lo: number }): boolean {
    out.hi = this.hi;
    out.lo = this.lo;
    return this.hi !== STRING_KEY;
  }

  /** `delete` for a key that `lastKey` gave (digit strings only). */
  deleteKey(hi: number, lo: number, rootId: number): boolean {
    if (hi === STRING_KEY || hi === 0) throw new RangeError('deleteKey needs a digit-string key from lastKey');
    this.hi = hi;
    this.lo = lo;
    const p = this.probe('');
    if (p < 0 || this.slots[p * STRIDE + ROOT_ID] !== rootId) return false;
    this.removeSlot(p);
    return true;
  }

  /** Digit strings of 1–15 digits map exactly to (length, value); anything else to its hash. */
  private encode(s: string): void {
    const n = s.length;
    if (n >= 1 && n <= 15) {
      let v = 0;
      let i = 0;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) {
        // v < 10^15 < 2^50: the high part fits in 20 bits, the length above it (never 0).
        this.hi = (n << 20) | Math.floor(v / TWO_32);
        this.lo = v | 0;
        return;
      }
    }
    this.hi = STRING_KEY;
    this.lo = fnv1a(s);
  }

  /** Slot of the encoded key, or -1 - (the free slot where it would go). */
  private probe(s: string): number {
    const slots = this.slots;
    const mask = this.mask;
    const hi = this.hi;
    const lo = this.lo;
    let p = mix(hi, lo) & mask;
    for (;;) {
      const at = p * STRIDE;
      const h = slots[at] as number;
      if (h === 0) return -1 - p;
      if (h === hi && slots[at + 1] === lo && (hi !== STRING_KEY || this.others.get(p) === s)) return p;
      p = (p + 1) & mask;
    }
  }

  /** Backward-shift deletion (Knuth 6.4, Algorithm R): no tombstones, probes stay short. */
  private removeSlot(i: number): void {
    const s = this.slots;
    const mask = this.mask;
    this.count--;
    this.others.delete(i);
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const at = j * STRIDE;
      if (s[at] === 0) break;
      const home = mix(s[at] as number, s[at + 1] as number) & mask;
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      s.copyWithin(i * STRIDE, at, at + STRIDE);
      const other = this.others.get(j);
      if (other !== undefined) {
        this.others.delete(j);
        this.others.set(i, other);
      }
      i = j;
    }
    s.fill(0, i * STRIDE, i * STRIDE + STRIDE);
  }

  private grow(): void {
    const old = this.slots;
    const oldOthers = new Map(this.others);
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
    this.others.clear();
    for (let p = 0; p * STRIDE < old.length; p++) {
      const at = p * STRIDE;
      const hi = old[at] as number;
      if (hi === 0) continue;
      let q = mix(hi, old[at + 1] as number) & this.mask;
      while (this.slots[q * STRIDE] !== 0) q = (q + 1) & this.mask;
      this.slots.set(old.subarray(at, at + STRIDE), q * STRIDE);
      const other = oldOthers.get(p);
      if (other !== undefined) this.others.set(q, other);
    }
  }
}
