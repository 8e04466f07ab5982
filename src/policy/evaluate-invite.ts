import { allow, deny, details, windowDetails } from './build-decision.js';
import { checkLicensedInstall, checkNumber, userOf, windowDeny } from './caller-checks.js';
import type { AllowBasis, Decision } from './decision.js';
import { DEFAULT_POLICY_OPTIONS, type InviteFacts, type PolicyOptions } from './request-facts.js';
import type { GroupLicense, LicenseSnapshot } from './snapshot.js';
import { isWindowClosed, windowState } from './window.js';

/**
 * Decides an initial INVITE (DESIGN.md §2). Pure: no I/O, no clock.
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
  const caller = facts.identity;
  const callee = facts.callee;
  const entry = caller === null ? undefined : snapshot.number(caller);
  const group = entry === undefined ? undefined : (entry.group ?? snapshot.group(entry.rootId));

  let basis: AllowBasis;
  if (entry === undefined || group === undefined) {
    if (options.unknownNumbers === 'reject') return deny('unknown-number', details(caller, callee, undefined));
    basis = 'unprovisioned';
  } else if (!group.restrictions) {
    basis = 'unrestricted';
  } else {
    const state = windowState(group, now);
    if (isWindowClosed(state)) return windowDeny(state, entry.number, callee, group);
    const user = userOf(entry, snapshot);
    const numberDeny = checkNumber(entry, group, user, callee);
    if (numberDeny !== null) return numberDeny;
    basis = 'licensed';
    if (facts.isMobileApp && facts.installId !== null) {
      const install = snapshot.install(facts.installId, entry.number);
      if (install === undefined) {
        return deny(
          'no-mobile-app-license',
          details(entry.number, callee, group, group.mobileApps, group.appsUsed, undefined, 'group'),
        );
      }
      const installDeny = checkLicensedInstall(install, group, user, callee);
      if (installDeny !== null) return installDeny;
      basis = 'install-licensed';
    }
  }

  if (options.checkCalleeWindow && callee !== null) {
    const calleeDeny = checkCallee(callee, caller, snapshot, now);
    if (calleeDeny !== null) return calleeDeny;
  }
  return allow(basis, false, details(entry?.number ?? caller, callee, group));
}

function checkCallee(callee: string, caller: string | null, snapshot: LicenseSnapshot, now: number): Decision | null {
  const entry = snapshot.number(callee);
  if (entry === undefined) return null;
  const group: GroupLicense | undefined = entry.group ?? snapshot.group(entry.rootId);
  if (group === undefined || !isWindowClosed(windowState(group, now))) return null;
  return deny('callee-license-expired', windowDetails(caller, callee, group));
}
