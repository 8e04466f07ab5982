import { deny, details } from './build-decision.js';
import type { Deny } from './decision.js';
import type { PolicyOptions } from './request-facts.js';

/**
 * The one place where a number that is not provisioned becomes a decision (`policy.unknownNumbers`,
 * DESIGN.md §2): refused with `unknown-number`, or null, in which case the caller lets it through
 * unchecked (`unprovisioned`). Used for the identity, the caller and any digest user.
 */
export function refuseUnknownNumber(number: string | null, callee: string | null, options: PolicyOptions): Deny | null {
  return options.unknownNumbers === 'reject' ? deny('unknown-number', details(number, callee, undefined)) : null;
}
