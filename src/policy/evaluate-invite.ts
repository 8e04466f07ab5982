import { allow, calleeWindowDetails, deny, details } from './build-decision.js';
import { checkLicensedInstall, checkNumber, userOf, windowDeny } from './caller-checks.js';
import type { AllowBasis, Decision, Deny } from './decision.js';
import { checkIdentities } from './identity-checks.js';
import { DEFAULT_POLICY_OPTIONS, type InviteFacts, type PolicyOptions } from './request-facts.js';
import type { GroupLicense, LicenseSnapshot, NumberEntry } from './snapshot.js';
import { refuseUnknownNumber } from './unknown-number.js';
import { isWindowClosed, windowState } from './window.js';

/**
 * Decides an initial INVITE (DESIGN.md §2). Pure: no I/O, no clock.
 *
 * Identities: an unreadable caller or callee, or a digest user that disagrees with the caller
 * about a restricted number, is refused (`checkIdentities`).
 *
 * Caller (the identity):
 * - not provisioned: refused in strict mode, else its checks are skipped (the callee is still
 *   checked);
 * - restricted tree: window open (always, whatever `registerOutsideWindow` says: a device kept
 *   registered outside the window still may not call), number within the tree's and its user's
 *   number licenses, and, for the mobile app with an install id, the install must hold a license
 *   within the app licenses. An INVITE never takes a license: an install that has none is refused
 *   (`no-mobile-app-license`). An app INVITE without an install id is not checked as an install
 *   (its REGISTER was).
 *
 * With `skipCaller` (the caller's domain is not served) only the callee is checked
 * (`callee-only`).
 *
 * Callee (the Request-URI user part), when `checkCalleeWindow`: a known number of a restricted tree
 * whose window is closed is refused with `callee-license-expired` (also when not yet valid; the
 * details carry the bounds).
 */
export function evaluateInvite(
  facts: InviteFacts,
  snapshot: LicenseSnapshot,
  now: number,
  options: PolicyOptions = DEFAULT_POLICY_OPTIONS,
): Decision {
  const callee = facts.callee;
  const skipCaller = facts.skipCaller === true;
  const caller = skipCaller ? null : facts.identity;
  const identityDeny = skipCaller
    ? checkIdentities(null, undefined, facts.unreadable, callee, snapshot, options)
    : checkIdentities(caller, facts.credentials, facts.unreadable, callee, snapshot, options);
  if (identityDeny !== null) return identityDeny;
  const entry = caller === null ? undefined : snapshot.number(caller);
  const group = entry === undefined ? undefined : (entry.group ?? snapshot.group(entry.rootId));

  let basis: AllowBasis;
  if (skipCaller) {
    basis = 'callee-only';
  } else if (entry === undefined || group === undefined) {
    const unknown = refuseUnknownNumber(caller, callee, options);
    if (unknown !== null) return unknown;
    basis = 'unprovisioned';
  } else if (!group.restrictions) {
    basis = 'unrestricted';
  } else {
    const callerDeny = checkCaller(facts, entry, group, snapshot, now);
    if (callerDeny !== null) return callerDeny;
    basis = facts.isMobileApp && facts.installId !== null ? 'install-licensed' : 'licensed';
  }

  if (options.checkCalleeWindow && callee !== null) {
    const calleeDeny = checkCallee(callee, entry?.number ?? caller, group, snapshot, now);
    if (calleeDeny !== null) return calleeDeny;
  }
  return allow(basis, false, details(entry?.number ?? caller, callee, group));
}

/** A provisioned caller of a restricted project: window, number licences, app install. */
function checkCaller(facts: InviteFacts, entry: NumberEntry, group: GroupLicense, snapshot: LicenseSnapshot, now: number): Deny | null {
  const callee = facts.callee;
  const state = windowState(group, now);
  if (isWindowClosed(state)) return windowDeny(state, entry.number, callee, group);
  const user = userOf(entry, snapshot);
  const numberDeny = checkNumber(entry, group, user, callee);
  if (numberDeny !== null) return numberDeny;
  if (!facts.isMobileApp || facts.installId === null) return null;
  const install = snapshot.install(facts.installId, entry.number);
  if (install === undefined) {
    return deny('no-mobile-app-license', details(entry.number, callee, group, group.mobileApps, group.appsUsed, undefined, 'group'));
  }
  return checkLicensedInstall(install, group, user, callee);
}

function checkCallee(
  callee: string,
  caller: string | null,
  callerGroup: GroupLicense | undefined,
  snapshot: LicenseSnapshot,
  now: number,
): Decision | null {
  const entry = snapshot.number(callee);
  if (entry === undefined) return null;
  const group: GroupLicense | undefined = entry.group ?? snapshot.group(entry.rootId);
  if (group === undefined || !isWindowClosed(windowState(group, now))) return null;
  return deny('callee-license-expired', calleeWindowDetails(caller, callerGroup, callee, group));
}
