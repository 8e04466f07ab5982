import { IdMap } from './id-map.js';
import { INSTALL_KEY_KINDS, NO_INSTALL_KEYS, type InstallKeyKind, type InstallKeys } from './install-keys.js';
import { NumberTable } from './number-table.js';
import { GroupEntry, InstallItem, NumberItem, Tree, UserEntry } from './snapshot-entries.js';
import type { GroupRecords, InstallRecord, LicenseRecord, UserRecord } from './snapshot-records.js';
import type { GroupLicense, InstallEntry, LicenseSnapshot, NumberEntry, UserLicense } from './snapshot.js';

/** Which trees a reloader must read again, from the store's current `licenses.revision`s. */
export interface StaleGroups {
  /** New trees and trees whose revision differs from the one they were built at. */
  readonly changed: number[];
  /** Trees in the index that the store no longer has. */
  readonly removed: number[];
}

export interface SnapshotStats {
  readonly groups: number;
  readonly users: number;
  readonly numbers: number;
  readonly installs: number;
}

/** Number-table flags: the number's user belongs to the number's tree; it has a personal license. */
export const OWN_USER = 1;
export const PERSONAL = 2;

export function userFlags(u: UserEntry | undefined): number {
  if (u === undefined) return 0;
  return u.personalNumbers !== null || u.personalApps !== null ? OWN_USER | PERSONAL : OWN_USER;
}

export function bump(counters: Map<number, number>, key: number): number {
  const n = counters.get(key) ?? 0;
  counters.set(key, n + 1);
  return n;
}

function keyOf(kind: InstallKeyKind, value: string): string {
  return `${kind}\u0000${value}`;
}

function append(map: Map<string, InstallItem[]>, key: string, item: InstallItem): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [item]);
  else list.push(item);
}

function remove(map: Map<string, InstallItem[]>, key: string, item: InstallItem): void {
  const list = map.get(key);
  if (list === undefined) return;
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

function onNumber(list: readonly InstallItem[] | undefined, number: string): InstallItem | undefined {
  if (list === undefined) return undefined;
  for (let k = 0; k < list.length; k++) {
    const i = list[k] as InstallItem;
    if (i.number === number) return i;
  }
  return undefined;
}

/**
 * The tables behind a SnapshotIndex. Ranks come from arrival order: numbers in creation order,
 * installs in licensing order, a tree's licence and users before its numbers and installs.
 * SnapshotBuilder fills it in bulk; `replaceGroup` one tree at a time through `addTree`.
 *
 * @internal shared by snapshot-builder.ts and SnapshotIndex only.
 */
export class IndexData {
  readonly trees = new IdMap<Tree>();
  /** Each tree's licence again, by root id: one pointer less to follow per decision. */
  readonly licenses = new IdMap<GroupEntry>();
  readonly users = new IdMap<UserEntry>();
  readonly numbers: NumberTable;
  /** By instance id; one instance may hold licenses on a few numbers. */
  readonly installs = new Map<string, InstallItem[]>();
  /** By `kind NUL value` of every identifier an install was stored under. */
  readonly installKeys = new Map<string, InstallItem[]>();

  constructor(expectedNumbers = 0) {
    this.numbers = new NumberTable(expectedNumbers);
  }

  tree(rootId: number): Tree {
    let t = this.trees.get(rootId);
    if (t === undefined) {
      t = new Tree(rootId);
      this.trees.set(rootId, t);
    }
    return t;
  }

  addLicense(t: Tree, r: LicenseRecord): void {
    t.license = new GroupEntry({ ...r, rootId: t.rootId });
    t.revision = r.revision;
    this.licenses.set(t.rootId, t.license);
  }

  addUser(t: Tree, r: UserRecord): UserEntry {
    const u = new UserEntry(r, t.rootId);
    t.users.push(u);
    this.users.set(u.userId, u);
    return u;
  }

  /** One tree from its records (numbers in creation order, installs in licensing order). */
  addTree(rootId: number, records: GroupRecords): void {
    const t = this.tree(rootId);
    this.addLicense(t, records.license);
    for (const u of records.users) this.addUser(t, u);
    const stray = new Map<number, number>();
    const keys: number[] = [];
    const key = { hi: 0, lo: 0 };
    for (const n of records.numbers) {
      const u = this.ownUser(t, n.userId);
      const userRank = u === undefined ? bump(stray, n.userId) : u.numbersUsed++;
      this.numbers.set(n.number, n.userId, rootId, t.numberCount++, userRank, userFlags(u));
      if (this.numbers.lastKey(key)) keys.push(key.hi, key.lo);
      else t.otherNumbers.push(n.number);
    }
    t.numberKeys = Int32Array.from(keys);
    this.finish(t);
    stray.clear();
    for (const i of records.installs) this.addInstall(t, i.instanceId, i.number, i.userId, stray, i.keys);
  }

  /** `strayApps`: rank counters of users not of this tree (inconsistent data), per build. */
  addInstall(
    t: Tree,
    instanceId: string,
    number: string,
    userId: number,
    strayApps: Map<number, number>,
    keys: InstallKeys = NO_INSTALL_KEYS,
  ): void {
    const u = this.ownUser(t, userId);
    const userRank = u === undefined ? bump(strayApps, userId) : u.appsUsed++;
    const i = new InstallItem(instanceId, number, userId, t.rootId, t.installs.length, userRank, keys);
    t.installs.push(i);
    if (t.license !== undefined) t.license.appsUsed++;
    append(this.installs, instanceId, i);
    for (const kind of INSTALL_KEY_KINDS) {
      const value = keys[kind];
      if (value !== null) append(this.installKeys, keyOf(kind, value), i);
    }
  }

  /** Completes a tree's counts once its numbers are in. */
  finish(t: Tree): void {
    if (t.license !== undefined) t.license.numbersUsed = t.numberCount;
  }

  /** Takes a tree's entries out of the tables; an entry that another tree has since taken over stays. */
  detach(t: Tree): void {
    this.trees.delete(t.rootId);
    if (t.license !== undefined && this.licenses.get(t.rootId) === t.license) this.licenses.delete(t.rootId);
    for (const u of t.users) if (this.users.get(u.userId) === u) this.users.delete(u.userId);
    const keys = t.numberKeys;
    for (let k = 0; k < keys.length; k += 2) this.numbers.deleteKey(keys[k] as number, keys[k + 1] as number, t.rootId);
    for (const n of t.otherNumbers) this.numbers.delete(n, t.rootId);
    for (const i of t.installs) {
      remove(this.installs, i.instanceId, i);
      for (const kind of INSTALL_KEY_KINDS) {
        const value = i.keys[kind];
        if (value !== null) remove(this.installKeys, keyOf(kind, value), i);
      }
    }
  }

  /** The user if it belongs to this tree (counting on another tree's user would alter it). */
  ownUser(t: Tree, userId: number): UserEntry | undefined {
    const u = this.users.get(userId);
    return u !== undefined && u.rootId === t.rootId ? u : undefined;
  }
}

/**
 * The in-memory licence snapshot the policy decides on: O(1) lookups, built once from the whole
 * store (SnapshotBuilder) and then kept current tree by tree — the daemon reloads only the root
 * groups whose `licenses.revision` changed (`staleGroups`, then `replaceGroup` / `removeGroup`).
 *
 * Licence, user and install objects handed out are never replaced in place: a reloaded tree gets
 * new ones. The one exception is a claim the store committed (`applyClaim`): it appends the install
 * and moves the used counters of its licence and user, so that a burst of new installs costs no
 * tree reload each. Number entries are made per lookup from the number table (see number-table.ts).
 */
export class SnapshotIndex implements LicenseSnapshot {
  /** An empty index; SnapshotBuilder passes the tables it filled. */
  constructor(private readonly data: IndexData = new IndexData()) {}

  /** A new entry per call, linked to its tree's licence and (see NumberEntry.user) its user. */
  number(number: string): NumberEntry | undefined {
    const d = this.data;
    const at = d.numbers.find(number);
    if (at < 0) return undefined;
    const rootId = d.numbers.rootIdAt(at);
    const userId = d.numbers.userIdAt(at);
    // From the flags taken at build: no read of the user object here (a cache miss saved).
    const flags = d.numbers.flagsAt(at);
    const user = (flags & OWN_USER) === 0 ? undefined : (flags & PERSONAL) === 0 ? null : d.users.get(userId);
    return new NumberItem(
      number,
      userId,
      rootId,
      d.numbers.groupRankAt(at),
      d.numbers.userRankAt(at),
      d.licenses.get(rootId),
      user,
    );
  }

  group(rootId: number): GroupLicense | undefined {
    return this.data.licenses.get(rootId);
  }

  user(userId: number): UserLicense | undefined {
    return this.data.users.get(userId);
  }

  install(instanceId: string, number: string): InstallEntry | undefined {
    return onNumber(this.data.installs.get(instanceId), number);
  }

  installBy(kind: InstallKeyKind, value: string, number: string): InstallEntry | undefined {
    return onNumber(this.data.installKeys.get(keyOf(kind, value)), number);
  }

  /** The `licenses.revision` the tree was built at; undefined when the index does not have it. */
  revisionOf(rootId: number): number | undefined {
    return this.data.trees.get(rootId)?.revision;
  }

  rootIds(): IterableIterator<number> {
    return this.data.trees.keys();
  }

  stats(): SnapshotStats {
    let installs = 0;
    for (const list of this.data.installs.values()) installs += list.length;
    return {
      groups: this.data.trees.size,
      users: this.data.users.size,
      numbers: this.data.numbers.size,
      installs,
    };
  }

  /** Compares the index with the store's revisions (`readRevisions`). */
  staleGroups(revisions: ReadonlyMap<number, number>): StaleGroups {
    const changed: number[] = [];
    const removed: number[] = [];
    for (const [rootId, revision] of revisions) {
      if (this.revisionOf(rootId) !== revision) changed.push(rootId);
    }
    for (const rootId of this.data.trees.keys()) if (!revisions.has(rootId)) removed.push(rootId);
    return { changed, removed };
  }

  /**
   * Replaces everything of one tree (its licence, users, numbers, installs) with `records`, read
   * in one transaction. Every record is taken as belonging to `rootId`.
   */
  replaceGroup(rootId: number, records: GroupRecords): void {
    const old = this.data.trees.get(rootId);
    if (old !== undefined) this.data.detach(old);
    this.data.addTree(rootId, records);
  }

  /**
   * A licence the store has just committed for a new install, appended in licensing order (the
   * store gives each claim of a tree a `licensed_at` after every earlier one, so the new install
   * ranks last, as a reload would rank it). The tree moves to `revisionAfter` only when it was at
   * `revisionBefore`, i.e. nothing else changed it in between; otherwise it stays stale, and the
   * next refresh reloads it whole. False when there is nothing to apply: the tree is not in the
   * index (a refresh brings it), or the install is already there (a refresh was faster).
   */
  applyClaim(install: InstallRecord, revisionBefore: number, revisionAfter: number): boolean {
    const t = this.data.trees.get(install.rootId);
    if (t === undefined || this.install(install.instanceId, install.number) !== undefined) return false;
    // A user of another tree has no counters here (inconsistent data): rank it alone, as a build would.
    this.data.addInstall(t, install.instanceId, install.number, install.userId, new Map(), install.keys);
    if (t.revision === revisionBefore) t.revision = revisionAfter;
    return true;
  }

  /** Drops a tree: its numbers become unknown to the policy. False when there was none. */
  removeGroup(rootId: number): boolean {
    const t = this.data.trees.get(rootId);
    if (t === undefined) return false;
    this.data.detach(t);
    return true;
  }
}
