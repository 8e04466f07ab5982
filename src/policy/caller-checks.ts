import { deny, details, windowDetails } from './build-decision.js';
import type { Deny } from './decision.js';
import type { GroupLicense, InstallEntry, LicenseSnapshot, NumberEntry, UserLicense } from './snapshot.js';

/*
 * The checks that REGISTER and INVITE share for the number that sends the request, each returning
 * the refusal or null when it passes (no allocation when it passes). `callee` is only carried
 * into the details (null for REGISTER).
 */

/** The number's user as far as personal licenses go: undefined when there is none to apply. */
export function userOf(entry: NumberEntry, snapshot: LicenseSnapshot): UserLicense | undefined {
  const linked = entry.user;
  return linked === undefined ? snapshot.user(entry.userId) : (linked ?? undefined);
}

export function windowDeny(
  state: 'not-yet-valid' | 'expired',
  number: string,
  callee: string | null,
  group: GroupLicense,
): Deny {
  const reason = state === 'expired' ? 'license-expired' : 'license-not-yet-valid';
  return deny(reason, windowDetails(number, callee, group));
}

/**
 * The number must be among the first `virtualNumbers` of its tree, and among the first
 * `personalNumbers` of its user: after a limit is lowered, the newest numbers beyond it are
 * refused and the older ones keep working (DESIGN.md §1, "Lowering a limit").
 */
export function checkNumber(
  entry: NumberEntry,
  group: GroupLicense,
  user: UserLicense | undefined,
  callee: string | null,
): Deny | null {
  if (entry.groupRank >= group.virtualNumbers) {
    return deny(
      'virtual-numbers-exceeded',
      details(entry.number, callee, group, group.virtualNumbers, group.numbersUsed, entry.groupRank, 'group'),
    );
  }
  if (user !== undefined && user.personalNumbers !== null && entry.userRank >= user.personalNumbers) {
    return deny(
      'personal-license-exceeded',
      details(entry.number, callee, group, user.personalNumbers, user.numbersUsed, entry.userRank, 'user'),
    );
  }
  return null;
}

/** A licensed install keeps working while it is among the first `mobileApps` (and personal apps). */
export function checkLicensedInstall(
  install: InstallEntry,
  group: GroupLicense,
  user: UserLicense | undefined,
  callee: string | null,
): Deny | null {
  if (install.groupRank >= group.mobileApps) {
    return deny(
      'no-mobile-app-license',
      details(install.number, callee, group, group.mobileApps, group.appsUsed, install.groupRank, 'group'),
    );
  }
  if (user !== undefined && user.personalApps !== null && install.userRank >= user.personalApps) {
    return deny(
      'personal-license-exceeded',
      details(install.number, callee, group, user.personalApps, user.appsUsed, install.userRank, 'user'),
    );
  }
  return null;
}

/** A new install may take a license only when one is free in the tree and for its user. */
export function checkFreeAppLicense(
  number: string,
  group: GroupLicense,
  user: UserLicense | undefined,
): Deny | null {
  if (group.appsUsed >= group.mobileApps) {
    return deny(
      'no-mobile-app-license',
      details(number, null, group, group.mobileApps, group.appsUsed, undefined, 'group'),
    );
  }
  if (user !== undefined && user.personalApps !== null && user.appsUsed >= user.personalApps) {
    return deny(
      'personal-license-exceeded',
      details(number, null, group, user.personalApps, user.appsUsed, undefined, 'user'),
    );
  }
  return null;
}
