/**
 * How a refusal is carried out (issue 11, item 4): `enforce` answers it 403; `shadow` only logs
 * and counts it as "would refuse" and forwards the request, so an operator can roll enforcement
 * out project by project and see what it would do first.
 */
export type EnforcementMode = 'enforce' | 'shadow';

export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['enforce', 'shadow'];

/** The sidecar's `policy.mode` when its configuration says nothing. */
export const DEFAULT_ENFORCEMENT_MODE: EnforcementMode = 'enforce';
