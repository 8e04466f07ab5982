import { IdMap } from './id-map.js';
import { IndexData, SnapshotIndex, bump, userFlags } from './snapshot-index.js';
import type { Tree, UserEntry } from './snapshot-entries.js';
import type { InstallRecord, LicenseRecord, NumberRecord, SnapshotRecords, UserRecord } from './snapshot-records.js';

export { SnapshotIndex, type SnapshotStats, type StaleGroups } from './snapshot-index.js';

const GROW = 2;

function grown<T extends Int32Array | Uint8Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, a.length * GROW));
  b.set(a);
  return b;
}

/**
 * Streams the whole store into a new SnapshotIndex. Feed licences and users first, then numbers
 * in creation order, then licensed installs in licensing order (the order of the `add…` calls is
 * the rank order); a call out of that order throws, as it is a programming error.
 *
 * A million numbers arrive interleaved across ten thousand trees, so the per-number work touches
 * no tree or user object: rank counters live in typed arrays indexed by dense slots, the table
 * keys go to one append-only log, and `build` hands each tree its keys with a counting sort.
 */
export class SnapshotBuilder {
  private readonly data: IndexData;
  private phase: 0 | 1 | 2 | 3 = 0;
  private built = false;

  private readonly treeSlots = new IdMap<number>();
  private readonly trees: Tree[] = [];
  private treeCounts = new Int32Array(256);
  private readonly userSlots = new IdMap<number>();
  private userRoots = new Int32Array(1024);
  private userCounts = new Int32Array(1024);
  private userFlagBits = new Uint8Array(1024);
  private readonly userEntries: UserEntry[] = [];
  /** (tree slot, key hi, key lo) of every digit-string number, in arrival order. */
  private log = new Int32Array(3 * 1024);
  private logLength = 0;
  private readonly strayNumbers = new Map<number, number>();
  private readonly strayApps = new Map<number, number>();
  private readonly key = { hi: 0, lo: 0 };

  /** `expectedNumbers` sizes the number table up front (it grows when exceeded). */
  constructor(expectedNumbers = 0) {
    this.data = new IndexData(expectedNumbers);
    this.log = new Int32Array(3 * Math.max(1024, expectedNumbers));
  }

  addLicense(r: LicenseRecord): void {
    this.enter(0, 'licenses');
    this.data.addLicense(this.tree(r.rootId), r);
  }

  addUser(r: UserRecord): void {
    this.enter(0, 'users');
    const u = this.data.addUser(this.tree(r.rootId), r);
    const slot = this.userEntries.length;
    this.userEntries.push(u);
    this.userSlots.set(u.userId, slot);
    this.userRoots = grown(this.userRoots, slot + 1, (n) => new Int32Array(n));
    this.userCounts = grown(this.userCounts, slot + 1, (n) => new Int32Array(n));
    this.userFlagBits = grown(this.userFlagBits, slot + 1, (n) => new Uint8Array(n));
    this.userRoots[slot] = u.rootId;
    this.userFlagBits[slot] = userFlags(u);
  }

  addNumber(r: NumberRecord): void {
    this.enter(1, 'numbers');
    let ts = this.treeSlots.get(r.rootId);
    if (ts === undefined) {
      this.tree(r.rootId);
      ts = this.treeSlots.get(r.rootId) as number;
    }
    const us = this.userSlots.get(r.userId);
    let userRank: number;
    let flags = 0;
    if (us !== undefined && this.userRoots[us] === r.rootId) {
      userRank = this.userCounts[us] as number;
      this.userCounts[us] = userRank + 1;
      flags = this.userFlagBits[us] as number;
    } else {
      userRank = bump(this.strayNumbers, r.userId);
    }
    const groupRank = this.treeCounts[ts] as number;
    this.treeCounts[ts] = groupRank + 1;
    const table = this.data.numbers;
    table.set(r.number, r.userId, r.rootId, groupRank, userRank, flags);
    if (table.lastKey(this.key)) {
      this.log = grown(this.log, this.logLength + 3, (n) => new Int32Array(n));
      this.log[this.logLength++] = ts;
      this.log[this.logLength++] = this.key.hi;
      this.log[this.logLength++] = this.key.lo;
    } else {
      (this.trees[ts] as Tree).otherNumbers.push(r.number);
    }
  }

  addInstall(r: InstallRecord): void {
    this.enter(2, 'installs');
    this.data.addInstall(this.tree(r.rootId), r.instanceId, r.number, r.userId, this.strayApps, r.keys);
  }

  /** The finished index; the builder cannot be used afterwards. */
  build(): SnapshotIndex {
    this.enter(3, 'build');
    this.built = true;
    this.settleNumbers();
    return new SnapshotIndex(this.data);
  }

  /** Counts into the trees and users, and each tree's keys out of the log (counting sort). */
  private settleNumbers(): void {
    const trees = this.trees;
    const log = this.log;
    // offsets[s]..offsets[s + 1]: tree slot s's digit-string numbers, in arrival order.
    const offsets = new Int32Array(trees.length + 1);
    for (let k = 0; k < this.logLength; k += 3) {
      const s = log[k] as number;
      offsets[s + 1] = (offsets[s + 1] as number) + 1;
    }
    for (let s = 0; s < trees.length; s++) offsets[s + 1] = (offsets[s + 1] as number) + (offsets[s] as number);
    const keys = new Int32Array((2 * this.logLength) / 3);
    const next = offsets.slice(0, trees.length);
    for (let k = 0; k < this.logLength; k += 3) {
      const s = log[k] as number;
      const at = 2 * (next[s] as number);
      next[s] = (next[s] as number) + 1;
      keys[at] = log[k + 1] as number;
      keys[at + 1] = log[k + 2] as number;
    }
    this.log = new Int32Array(0);
    for (let s = 0; s < trees.length; s++) {
      const t = trees[s] as Tree;
      t.numberCount = this.treeCounts[s] as number;
      t.numberKeys = keys.subarray(2 * (offsets[s] as number), 2 * (offsets[s + 1] as number));
      this.data.finish(t);
    }
    for (let s = 0; s < this.userEntries.length; s++) {
      (this.userEntries[s] as UserEntry).numbersUsed = this.userCounts[s] as number;
    }
  }

  private tree(rootId: number): Tree {
    const t = this.data.tree(rootId);
    if (this.treeSlots.get(rootId) === undefined) {
      const slot = this.trees.length;
      this.trees.push(t);
      this.treeSlots.set(rootId, slot);
      this.treeCounts = grown(this.treeCounts, slot + 1, (n) => new Int32Array(n));
    }
    return t;
  }

  private enter(phase: 0 | 1 | 2 | 3, what: string): void {
    if (this.built) throw new Error('SnapshotBuilder: already built');
    if (this.phase > phase) {
      throw new Error(`SnapshotBuilder: ${what} added out of order (licenses, users, numbers, installs)`);
    }
    this.phase = phase;
  }
}

/** A SnapshotIndex from plain records (see SnapshotBuilder for the required orders). */
export function buildSnapshot(records: SnapshotRecords): SnapshotIndex {
  const b = new SnapshotBuilder();
  for (const r of records.licenses) b.addLicense(r);
  for (const r of records.users) b.addUser(r);
  for (const r of records.numbers) b.addNumber(r);
  for (const r of records.installs) b.addInstall(r);
  return b.build();
}
