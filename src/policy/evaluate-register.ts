import { allow, details } from './build-decision.js';
import { checkFreeAppLicense, checkLicensedInstall, checkNumber, userOf, windowDeny } from './caller-checks.js';
import type { Decision } from './decision.js';
import { checkIdentities } from './identity-checks.js';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions, type RegisterFacts } from './request-facts.js';
import type { GroupLicense, LicenseSnapshot } from './snapshot.js';
import { refuseUnknownNumber } from './unknown-number.js';
import { isWindowClosed, windowState } from './window.js';

/**
 * Decides a REGISTER (DESIGN.md §1–2). Pure: no I/O, no clock (`now` is ms since the epoch).
 *
 * 1. A de-REGISTER (every binding unambiguously removed) is always passed on: refusing it would
 *    keep a binding alive that the client wants gone (RFC 3261 §10.2.2).
 * 1a. Every identity the request carries is decided on (`checkIdentities`): an unreadable one,
 *    or a digest user that disagrees with the AoR about a restricted number, is refused.
 * 2. A number that is not provisioned passes (`unprovisioned`) or, in strict mode, is refused.
 *    A number whose tree has no Licences section in the snapshot is treated the same way.
 * 3. Restrictions off: allowed (`unrestricted`); a mobile-app install without a license still
 *    gets `claimInstall` so that the store records it (and counts it when limits are switched on).
 * 4. Window closed: refused, unless `registerOutsideWindow: 'allow-sip-devices'` and not the app;
 *    such a device still has to pass the number checks below, then gets
 *    `window-closed-device-kept` (a closed window never admits a number the open one would refuse).
 * 5. The number must be within the tree's and its user's number licenses (by creation rank).
 * 6. The mobile app: a licensed install must be within the app licenses by licensing rank; a new
 *    install needs a free license in the tree and for its user and is answered `install-new`
 *    with `claimInstall`: the store takes the license in a transaction that re-checks the limits.
 *    An app REGISTER without an install id uses the number itself as the install id, so that one
 *    number without RFC 5626/8599 identification still holds exactly one app license.
 */
export function evaluateRegister(
  facts: RegisterFacts,
  snapshot: LicenseSnapshot,
  now: number,
  options: PolicyOptions = DEFAULT_POLICY_OPTIONS,
): Decision {
  const id = facts.identity;
  // The de-REGISTER's decision line names the number's project all the same (issue 9, item 5).
  if (facts.isDeregister) return allow('deregister', false, details(id, null, groupOf(id, snapshot)));
  const identityDeny = checkIdentities(id, facts.credentials, facts.unreadable, null, snapshot, options);
  if (identityDeny !== null) return identityDeny;

  const entry = id === null ? undefined : snapshot.number(id);
  const group = entry === undefined ? undefined : (entry.group ?? snapshot.group(entry.rootId));
  if (entry === undefined || group === undefined) {
    return refuseUnknownNumber(id, null, options) ?? allow('unprovisioned', false, details(id, null, undefined));
  }
  const number = entry.number;
  const installId = facts.isMobileApp ? (facts.installId ?? number) : null;

  if (!group.restrictions) {
    const claim = installId !== null && snapshot.install(installId, number) === undefined;
    return allow('unrestricted', claim, details(number, null, group));
  }

  const state = windowState(group, now);
  const closed = isWindowClosed(state);
  if (closed && (installId !== null || options.registerOutsideWindow !== 'allow-sip-devices')) {
    return windowDeny(state, number, null, group);
  }

  const user = userOf(entry, snapshot);
  const numberDeny = checkNumber(entry, group, user, null);
  if (numberDeny !== null) return numberDeny;

  if (installId === null) {
    return allow(closed ? 'window-closed-device-kept' : 'licensed', false, details(number, null, group));
  }

  const install = snapshot.install(installId, number);
  if (install !== undefined) {
    const installDeny = checkLicensedInstall(install, group, user, null);
    if (installDeny !== null) return installDeny;
    const figures = details(number, null, group, group.mobileApps, group.appsUsed, install.groupRank, 'group');
    return allow('install-licensed', false, figures);
  }
  const freeDeny = checkFreeAppLicense(number, group, user);
  if (freeDeny !== null) return freeDeny;
  const figures = details(number, null, group, group.mobileApps, group.appsUsed, undefined, 'group');
  return allow('install-new', true, figures);
}

function groupOf(number: string | null, snapshot: LicenseSnapshot): GroupLicense | undefined {
  const entry = number === null ? undefined : snapshot.number(number);
  return entry === undefined ? undefined : (entry.group ?? snapshot.group(entry.rootId));
}
