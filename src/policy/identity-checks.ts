import { ambiguityDetails, deny } from './build-decision.js';
import type { Deny } from './decision.js';
import type { PolicyOptions } from './request-facts.js';
import type { GroupLicense, LicenseSnapshot } from './snapshot.js';
import { refuseUnknownNumber } from './unknown-number.js';

/**
 * Every identity a request carries is decided on (DESIGN.md §2; issue 7, hole 4). The SIP server
 * may bind the To AoR, authenticate a digest user and route by either, and a registrar need not
 * tie them together; so:
 *
 * - a field that cannot be read unambiguously (`unreadable`) refuses the request;
 * - a digest user that differs from the AoR refuses it when either is a number of a restricted
 *   project (they "disagree about a restricted number");
 * - otherwise every identity that differs passes the strict-mode check on its own; the caller then
 *   decides on `identity` as before.
 *
 * Costs nothing in the usual case: no credentials, or credentials naming the AoR itself.
 */
export function checkIdentities(
  identity: string | null,
  credentials: readonly string[] | undefined,
  unreadable: string | null | undefined,
  callee: string | null,
  snapshot: LicenseSnapshot,
  options: PolicyOptions,
): Deny | null {
  if (unreadable) {
    return deny('ambiguous-identity', ambiguityDetails(identity, callee, undefined, `${unreadable} cannot be read unambiguously`));
  }
  if (credentials === undefined) return null;
  for (const other of credentials) {
    if (other === identity) continue;
    const group = restrictedGroup(identity, snapshot) ?? restrictedGroup(other, snapshot);
    if (group !== undefined) {
      const problem = `the digest user ${other || '(empty)'} is not the ${identity === null ? 'request, which names no number' : `number ${identity}`}`;
      return deny('ambiguous-identity', ambiguityDetails(identity, callee, group, problem));
    }
    const unknown = snapshot.number(other) === undefined ? refuseUnknownNumber(other, callee, options) : null;
    if (unknown !== null) return unknown;
  }
  return null;
}

/** The group of `number` when it is provisioned in a project with restrictions on. */
function restrictedGroup(number: string | null, snapshot: LicenseSnapshot): GroupLicense | undefined {
  if (number === null) return undefined;
  const entry = snapshot.number(number);
  if (entry === undefined) return undefined;
  const group = entry.group ?? snapshot.group(entry.rootId);
  return group?.restrictions === true ? group : undefined;
}
