import type { Deny } from './decision.js';
import type { EnforcementMode } from './enforcement-mode.js';
import type { LicenseSnapshot } from './snapshot.js';

/** The mode a refusal takes and where it comes from: the project's own setting, or `policy.mode`. */
export interface AppliedMode {
  readonly mode: EnforcementMode;
  readonly source: 'project' | 'policy';
}

/**
 * The mode of the project a refusal is about: the callee's for `callee-license-expired`, else the
 * requester's. A number no project owns (and anything else without a project) takes `policy.mode`.
 */
export function modeOfRefusal(decision: Deny, snapshot: LicenseSnapshot, policyMode: EnforcementMode): AppliedMode {
  const d = decision.details;
  const rootId = decision.reason === 'callee-license-expired' && d.callee !== undefined ? snapshot.number(d.callee)?.rootId : d.rootId;
  return modeOfProject(rootId === undefined ? undefined : snapshot.group(rootId)?.enforcement, policyMode);
}

/** A project's setting when it has one (null or absent: it follows `policy.mode`). */
export function modeOfProject(setting: EnforcementMode | null | undefined, policyMode: EnforcementMode): AppliedMode {
  return setting === undefined || setting === null ? { mode: policyMode, source: 'policy' } : { mode: setting, source: 'project' };
}
