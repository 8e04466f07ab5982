import type { EnforcementMode } from './enforcement-mode.js';
import type { InstallKeys } from './install-keys.js';
import type { LicenseRecord, UserRecord } from './snapshot-records.js';
import type { GroupLicense, InstallEntry, NumberEntry, UserLicense } from './snapshot.js';

/*
 * The objects a SnapshotIndex hands out. Classes (not literals) so that every entry of a kind has
 * one hidden class. The used counters are written while a tree is being built, and afterwards only
 * by `SnapshotIndex.applyClaim` (a licence the store committed). Number entries are made per lookup from the number
 * table (see number-table.ts).
 */

export class GroupEntry implements GroupLicense {
  readonly rootId: number;
  readonly name: string;
  readonly restrictions: boolean;
  readonly virtualNumbers: number;
  readonly mobileApps: number;
  readonly validity: boolean;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly enforcement: EnforcementMode | null;
  appsUsed = 0;
  numbersUsed = 0;

  constructor(r: LicenseRecord) {
    this.rootId = r.rootId;
    this.name = r.name;
    this.restrictions = r.restrictions;
    this.virtualNumbers = r.virtualNumbers;
    this.mobileApps = r.mobileApps;
    this.validity = r.validity;
    this.validFrom = r.validFrom;
    this.validUntil = r.validUntil;
    this.enforcement = r.enforcement ?? null;
  }
}

export class UserEntry implements UserLicense {
  readonly userId: number;
  readonly login: string;
  readonly rootId: number;
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
  appsUsed = 0;
  numbersUsed = 0;

  constructor(r: UserRecord, rootId: number) {
    this.userId = r.userId;
    this.login = r.login;
    this.rootId = rootId;
    this.personalNumbers = r.personalNumbers;
    this.personalApps = r.personalApps;
  }
}

export class NumberItem implements NumberEntry {
  constructor(
    readonly number: string,
    readonly userId: number,
    readonly rootId: number,
    readonly groupRank: number,
    readonly userRank: number,
    /** Links within the same tree only; `user` null: its user has no personal license. */
    readonly group: GroupEntry | undefined,
    readonly user: UserEntry | null | undefined,
  ) {}
}

export class InstallItem implements InstallEntry {
  constructor(
    readonly instanceId: string,
    readonly number: string,
    readonly userId: number,
    readonly rootId: number,
    readonly groupRank: number,
    readonly userRank: number,
    readonly keys: InstallKeys,
  ) {}
}

const NO_KEYS = new Int32Array(0);

/** Everything of one root group's tree, so that it can be replaced or removed as a whole. */
export class Tree {
  license: GroupEntry | undefined = undefined;
  revision: number | undefined = undefined;
  /** Numbers added so far: the next number's group rank. */
  numberCount = 0;
  readonly users: UserEntry[] = [];
  /** Table keys (hi, lo pairs) of its digit-string numbers: no million strings kept alive. */
  numberKeys: Int32Array = NO_KEYS;
  /** Its numbers that are not digit strings. */
  readonly otherNumbers: string[] = [];
  readonly installs: InstallItem[] = [];

  constructor(readonly rootId: number) {}
}
