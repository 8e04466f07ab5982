import type { EnforcedLicense } from './license-section.js';
import type { EnforcementMode } from './enforcement-mode.js';

/**
 * The plain records a snapshot is built from, as the store reads them. The builder copies what it
 * needs and never keeps a record object, so a reader may reuse one object for every row.
 */

/** A root group's Licences section (the `licenses` row with its group's name). */
export interface LicenseRecord extends EnforcedLicense {
  readonly rootId: number;
  readonly name: string;
  /** `licenses.revision` when the tree was read: tells a reloader which trees are stale. */
  readonly revision: number;
  /** The project's own enforcement mode; null or absent: `policy.mode`. */
  readonly enforcement?: EnforcementMode | null;
}

export interface UserRecord {
  readonly userId: number;
  readonly login: string;
  readonly rootId: number;
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
}

export interface NumberRecord {
  readonly number: string;
  readonly userId: number;
  readonly rootId: number;
}

import type { InstallKeys } from './install-keys.js';

/** A licensed mobile-app install (`app_installs.licensed = 1`). */
export interface InstallRecord {
  readonly instanceId: string;
  readonly number: string;
  readonly userId: number;
  readonly rootId: number;
  /** Every identifier it was stored under; absent: known by `instanceId` only. */
  readonly keys?: InstallKeys;
}

/**
 * Everything of one tree, for `SnapshotIndex.replaceGroup`: numbers in creation order, installs
 * in licensing order (the orders the ranks are taken from).
 */
export interface GroupRecords {
  readonly license: LicenseRecord;
  readonly users: Iterable<UserRecord>;
  readonly numbers: Iterable<NumberRecord>;
  readonly installs: Iterable<InstallRecord>;
}

/** Everything of every tree, for a full build; same orders as `GroupRecords`, across trees. */
export interface SnapshotRecords {
  readonly licenses: Iterable<LicenseRecord>;
  readonly users: Iterable<UserRecord>;
  readonly numbers: Iterable<NumberRecord>;
  readonly installs: Iterable<InstallRecord>;
}
