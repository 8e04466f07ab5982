import type { Allow, AllowBasis, Deny, DecisionDetails } from './decision.js';
import type { ReasonCode } from './reason-code.js';
import type { GroupLicense } from './snapshot.js';

/**
 * Details with every key present (undefined when not relevant), so that all decisions share one
 * object shape: the hot path and the loggers that read them stay monomorphic.
 */
export function details(
  number: string | null,
  callee: string | null,
  group: GroupLicense | undefined,
  limit?: number,
  used?: number,
  rank?: number,
  scope?: 'group' | 'user',
): DecisionDetails {
  return {
    number: number ?? undefined,
    callee: callee ?? undefined,
    rootId: group?.rootId,
    group: group?.name,
    calleeGroup: undefined,
    limit,
    used,
    rank,
    validFrom: undefined,
    validUntil: undefined,
    scope,
    problem: undefined,
  };
}

/** Details of a window refusal: the bounds, so that `check` can say since or until when. */
export function windowDetails(number: string | null, callee: string | null, group: GroupLicense): DecisionDetails {
  return {
    number: number ?? undefined,
    callee: callee ?? undefined,
    rootId: group.rootId,
    group: group.name,
    calleeGroup: undefined,
    limit: undefined,
    used: undefined,
    rank: undefined,
    validFrom: group.validFrom,
    validUntil: group.validUntil,
    scope: 'group',
    problem: undefined,
  };
}

/**
 * Details of a callee refusal: the caller and its project (when provisioned), the callee and its
 * project, and the bounds of the callee's window.
 */
export function calleeWindowDetails(
  caller: string | null,
  callerGroup: GroupLicense | undefined,
  callee: string,
  calleeGroup: GroupLicense,
): DecisionDetails {
  return {
    ...details(caller, callee, callerGroup),
    calleeGroup: calleeGroup.name,
    validFrom: calleeGroup.validFrom,
    validUntil: calleeGroup.validUntil,
    scope: 'group',
  };
}

/** Details of an `ambiguous-identity` refusal. */
export function ambiguityDetails(
  number: string | null,
  callee: string | null,
  group: GroupLicense | undefined,
  problem: string,
): DecisionDetails {
  return { ...details(number, callee, group), problem };
}

export function allow(basis: AllowBasis, claimInstall: boolean, d: DecisionDetails): Allow {
  return { kind: 'allow', basis, claimInstall, details: d };
}

export function deny(reason: ReasonCode, d: DecisionDetails): Deny {
  return { kind: 'deny', reason, details: d };
}
