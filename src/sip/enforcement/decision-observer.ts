import type { Decision } from '../../policy/decision.js';

/**
 * What became of one REGISTER or initial INVITE: the policy's decision, `not-served` (a domain
 * not licensed here, forwarded unchecked), `not-recorded` (a new install's licence the store could
 * not write: 503) or `fault` (enforcement failed; see onInternalError).
 */
export type DecisionOutcome = Decision | 'not-served' | 'not-recorded' | 'fault';

/**
 * Told of every decision the enforcer makes, on the SIP path: keep it to a counter increment (the
 * metrics, src/ops/decision-counts.ts). `started` is the performance.now() at which the decision
 * began; `shadow` marks a refusal that shadow mode forwarded instead ("would refuse").
 */
export interface DecisionObserver {
  decided(method: string, transport: string, outcome: DecisionOutcome, started: number, shadow?: boolean): void;
}
