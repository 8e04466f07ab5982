import type { Decision, DecisionDetails } from '../policy/decision.js';
import type { AppliedMode } from '../policy/refusal-mode.js';
import { REASONS } from '../policy/reason-table.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../shared/iso-time.js';

/** `check --json`: the decision, its SIP answer and an explanation in words. */
export interface CheckReport {
  readonly decision: 'allow' | 'deny';
  readonly reason: string | null;
  readonly basis: string | null;
  /** 403 for a refusal; null when allowed (the request is relayed, the upstream answers). */
  readonly sipStatus: 403 | null;
  readonly text: string;
  /** The `Warning: 399` text a SIP client would receive (RFC 3261 §20.43); null when allowed. */
  readonly warning: string | null;
  /** Whether an allowed mobile-app REGISTER would take a new app license. */
  readonly claimInstall: boolean;
  readonly at: string;
  readonly details: Record<string, unknown>;
  /**
   * The enforcement mode of the project the decision is about (the callee's for a closed callee
   * window): its own setting, or the sidecar's policy.mode. Under `shadow` a refusal is only
   * logged and counted ("would refuse") and the request is forwarded.
   */
  readonly enforcement: AppliedMode;
}

function group(d: DecisionDetails): string {
  return d.group === undefined ? 'its group' : `group '${d.group}'`;
}

function position(d: DecisionDetails): string {
  return d.rank === undefined ? '' : ` is #${d.rank + 1} by age but`;
}

function limits(d: DecisionDetails, what: string): string {
  return `${d.limit ?? '?'} ${what} licensed${d.used === undefined ? '' : `, ${d.used} in use`}`;
}

function denyText(decision: Extract<Decision, { kind: 'deny' }>, instance: string | null): string {
  const d = decision.details;
  const subject = instance === null ? `number ${d.number ?? '?'}` : `app install '${instance}' of number ${d.number ?? '?'}`;
  switch (decision.reason) {
    case 'unknown-number':
      return `number ${d.number ?? '(none)'} is not provisioned and unknown numbers are refused (strict mode)`;
    case 'license-not-yet-valid':
      return `${group(d)} licence is not valid before ${formatIsoUtcOrNull(d.validFrom ?? null) ?? '?'}`;
    case 'license-expired':
      return `${group(d)} licence expired at ${formatIsoUtcOrNull(d.validUntil ?? null) ?? '?'}`;
    case 'virtual-numbers-exceeded':
      return `number ${d.number ?? '?'}${position(d)} ${group(d)} has only ${limits(d, 'virtual numbers')}`;
    case 'no-mobile-app-license':
      return d.rank === undefined
        ? `${subject} holds no mobile-app license and none is free in ${group(d)} (${limits(d, 'mobile apps')})`
        : `${subject}${position(d)} ${group(d)} has only ${limits(d, 'mobile apps')}`;
    case 'personal-license-exceeded':
      return d.rank === undefined
        ? `${subject}: its user has used all ${d.limit ?? '?'} personal mobile-app licenses${d.used === undefined ? '' : ` (${d.used} in use)`}`
        : `${subject}${position(d)} its user's personal license allows only ${d.limit ?? '?'}${d.used === undefined ? '' : ` (${d.used} in use)`}`;
    case 'ambiguous-identity':
      return `the request cannot be decided on unambiguously: ${d.problem ?? 'its identities disagree'}`;
    case 'callee-license-expired':
      return `the called number ${d.callee ?? '?'} belongs to ${d.calleeGroup === undefined ? 'a group' : `group '${d.calleeGroup}'`}, whose licence window is closed (valid from ${formatIsoUtcOrNull(d.validFrom ?? null) ?? 'open'} until ${formatIsoUtcOrNull(d.validUntil ?? null) ?? 'open'})`;
  }
}

function allowText(decision: Extract<Decision, { kind: 'allow' }>, instance: string | null): string {
  const d = decision.details;
  switch (decision.basis) {
    case 'deregister':
      return 'a de-REGISTER is always passed on (RFC 3261 §10.2.2)';
    case 'unprovisioned':
      return `number ${d.number ?? '(none)'} is not provisioned, so sipwarden does not license it; relayed`;
    case 'unrestricted':
      return `${group(d)} has restrictions off; nothing is enforced${decision.claimInstall ? ' (the install would be recorded)' : ''}`;
    case 'licensed':
      return `number ${d.number ?? '?'} of ${group(d)} is within its licences${d.callee === undefined ? '' : ` and may call ${d.callee}`}`;
    case 'install-licensed':
      return `app install '${instance ?? d.number ?? '?'}' holds a mobile-app license of ${group(d)}${d.rank === undefined ? '' : ` (#${d.rank + 1} of ${d.limit ?? '?'})`}`;
    case 'install-new':
      return `a mobile-app license is free in ${group(d)} (${limits(d, 'mobile apps')}); this REGISTER would take it`;
    case 'callee-only':
      return `only the callee is sipwarden's to check here${d.callee === undefined ? '' : `, and ${d.callee} may be called`}`;
    case 'window-closed-device-kept':
      return `${group(d)} licence window is closed, but plain SIP devices stay registered (their calls are refused)`;
  }
}

function detailsForJson(d: DecisionDetails): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined) continue;
    out[k] = (k === 'validFrom' || k === 'validUntil') && typeof v === 'number' ? formatIsoUtc(v) : v;
  }
  return out;
}

export function explainDecision(decision: Decision, at: number, instance: string | null, enforcement: AppliedMode): CheckReport {
  if (decision.kind === 'deny') {
    const entry = REASONS[decision.reason];
    return {
      decision: 'deny',
      reason: decision.reason,
      basis: null,
      sipStatus: entry.sipStatus,
      text: denyText(decision, instance),
      warning: entry.text,
      claimInstall: false,
      at: formatIsoUtc(at),
      details: detailsForJson(decision.details),
      enforcement,
    };
  }
  return {
    decision: 'allow',
    reason: null,
    basis: decision.basis,
    sipStatus: null,
    text: allowText(decision, instance),
    warning: null,
    claimInstall: decision.claimInstall,
    at: formatIsoUtc(at),
    details: detailsForJson(decision.details),
    enforcement,
  };
}

/**
 * Two lines: the decision (`REFUSED (403, license-expired): group 'Sunrise' licence expired at …`,
 * or `WOULD REFUSE (shadow mode, forwarded; 403, …)` under shadow mode) and the mode that applies.
 */
export function checkLines(r: CheckReport): [string, string] {
  const shadow = r.enforcement.mode === 'shadow';
  const first =
    r.decision === 'allow'
      ? `ALLOWED (${r.basis ?? '?'}): ${r.text}`
      : shadow
        ? `WOULD REFUSE (shadow mode, forwarded; ${r.sipStatus ?? 403}, ${r.reason ?? '?'}): ${r.text}`
        : `REFUSED (${r.sipStatus ?? 403}, ${r.reason ?? '?'}): ${r.text}`;
  const source = r.enforcement.source === 'project' ? "the project's setting" : "the sidecar's policy.mode (--mode)";
  return [first, `Mode: ${r.enforcement.mode}, ${source}`];
}
