import type { EnforcementMode } from './enforcement-mode.js';
import type { InstallKeyKind, InstallKeys } from './install-keys.js';
import type { EnforcedLicense } from './license-section.js';

/**
 * The read-only view of the licence data that the policy core decides on. The store builds it;
 * the policy never sees SQLite. Times are milliseconds since the Unix epoch (UTC).
 */

/** The Licences section of one root group (one project), with what its tree uses. */
export interface GroupLicense extends EnforcedLicense {
  readonly rootId: number;
  readonly name: string;
  /** Licensed mobile-app installs of the whole tree (used count). */
  readonly appsUsed: number;
  /**
   * Virtual numbers of the whole tree (used count). Only explains a decision (`details.used`);
   * the rules use ranks. Optional so that hand-made snapshots need not count.
   */
  readonly numbersUsed?: number;
  /**
   * The project's own enforcement mode (`licenses set --enforcement`); null or absent: it follows
   * the sidecar's `policy.mode`. Read only when a request is refused (see enforcement-mode.ts).
   */
  readonly enforcement?: EnforcementMode | null;
}

/** A user with an optional personal license (null = no personal cap). */
export interface UserLicense {
  readonly userId: number;
  readonly login: string;
  readonly rootId: number;
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
  /** Licensed mobile-app installs of this user. */
  readonly appsUsed: number;
  /** Virtual numbers of this user; only explains a decision (`details.used`). */
  readonly numbersUsed?: number;
}

/** A virtual number (the user part of an AOR) with its position among its tree's and its user's numbers. */
export interface NumberEntry {
  readonly number: string;
  readonly userId: number;
  readonly rootId: number;
  /** 0-based position by creation among all numbers of the root group's tree. */
  readonly groupRank: number;
  /** 0-based position by creation among the numbers of its user. */
  readonly userRank: number;
  /**
   * Links that spare the policy lookups (random memory reads) per request. `group`: the same
   * object `group(rootId)` returns. `user`: the same object `user(userId)` returns, or null when
   * the snapshot knows the user has no personal license (nothing personal to check). Absent: the
   * policy looks them up.
   */
  readonly group?: GroupLicense;
  readonly user?: UserLicense | null;
}

/** A mobile-app install that holds a license, with its position by licensing order. */
export interface InstallEntry {
  readonly instanceId: string;
  readonly number: string;
  readonly userId: number;
  readonly rootId: number;
  /** 0-based position among the licensed installs of the root group's tree. */
  readonly groupRank: number;
  /** 0-based position among the licensed installs of its user. */
  readonly userRank: number;
  /** Every identifier it was stored under (`+sip.instance`, `pn-prid`, Contact URI). */
  readonly keys: InstallKeys;
}

export interface LicenseSnapshot {
  number(number: string): NumberEntry | undefined;
  group(rootId: number): GroupLicense | undefined;
  user(userId: number): UserLicense | undefined;
  /** A licensed install of `instanceId` on `number`, if any. */
  install(instanceId: string, number: string): InstallEntry | undefined;
  /** A licensed install on `number` stored under this identifier, if any. */
  installBy(kind: InstallKeyKind, value: string, number: string): InstallEntry | undefined;
}
