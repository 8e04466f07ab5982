import type { AllowBasis } from '../policy/decision.js';
import type { ReasonCode } from '../policy/reason-code.js';
import { REASONS } from '../policy/reason-table.js';
import type { DecisionObserver, DecisionOutcome } from '../sip/enforcement/decision-observer.js';
import { BucketHistogram } from './bucket-histogram.js';
import type { Sample } from './collected-metric.js';

/** The `reason` label of an allowed request: why it was allowed (AllowBasis), in metric form. */
export const ALLOW_BASIS_METRIC = {
  deregister: 'deregister',
  unprovisioned: 'unprovisioned',
  unrestricted: 'unrestricted',
  licensed: 'licensed',
  'install-licensed': 'install_licensed',
  'install-new': 'install_new',
  'window-closed-device-kept': 'window_closed_device_kept',
  'callee-only': 'callee_only',
} as const satisfies Record<AllowBasis, string>;

/** One label set of `sipwarden_decisions_total` besides method and transport. */
interface OutcomeLabels {
  readonly decision: 'allow' | 'deny' | 'would_refuse' | 'unavailable' | 'fault';
  readonly reason: string;
}

const CODES = Object.keys(REASONS) as ReasonCode[];

/**
 * Every outcome a decision can have, in a fixed order: refusals labelled by the one reason table
 * (`REASONS[code].metric`), the same refusals forwarded by shadow mode (`would_refuse`), allows by
 * their basis, a request for a domain not served here (forwarded unchecked), a new install's
 * licence the store could not record (503), and an enforcement fault. The label set is closed, so
 * the series count is bounded: methods x transports x outcomes.
 */
const OUTCOMES: readonly OutcomeLabels[] = [
  ...CODES.map((code) => ({ decision: 'deny' as const, reason: REASONS[code].metric })),
  ...CODES.map((code) => ({ decision: 'would_refuse' as const, reason: REASONS[code].metric })),
  ...Object.values(ALLOW_BASIS_METRIC).map((reason) => ({ decision: 'allow' as const, reason })),
  { decision: 'allow', reason: 'domain_not_served' },
  { decision: 'unavailable', reason: 'install_not_recorded' },
  { decision: 'fault', reason: 'internal_error' },
];
const DENY_SLOT = new Map<string, number>(CODES.map((code, i) => [code, i]));
const ALLOW_SLOT = new Map<string, number>(Object.keys(ALLOW_BASIS_METRIC).map((basis, i) => [basis, 2 * CODES.length + i]));
const NOT_SERVED_SLOT = OUTCOMES.length - 3;
const NOT_RECORDED_SLOT = OUTCOMES.length - 2;
const FAULT_SLOT = OUTCOMES.length - 1;

/** The gate decides REGISTER and initial INVITE only (src/sip/proxy/gate.ts). */
const METHODS = ['REGISTER', 'INVITE'] as const;
const TRANSPORTS = ['udp', 'tcp', 'ws', 'tls', 'wss', 'other'] as const;
const TRANSPORT_SLOT = new Map<string, number>(TRANSPORTS.map((t, i) => [t, i]));
const OTHER_TRANSPORT = TRANSPORTS.length - 1;

/**
 * Handling time of a decision, in seconds: a policy decision takes tens of microseconds, a new
 * install's licence claim waits for the store (milliseconds, bounded by the claim timeout).
 */
export const DECISION_SECONDS_BUCKETS = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Decisions so far, for `sipwarden status`. */
export interface DecisionTotals {
  readonly decided: number;
  /** Refusals answered 403, by reason-table label. */
  readonly denied: Readonly<Record<string, number>>;
  /** Refusals shadow mode forwarded. */
  readonly wouldRefuse: number;
  readonly faults: number;
}

/**
 * Counts the enforcer's decisions by method, transport, decision and reason, and their handling
 * time, in plain arrays: what the SIP path pays per decision is an index computation, two array
 * increments and one clock read. Read as Prometheus samples at scrape time.
 */
export class DecisionCounts implements DecisionObserver {
  readonly #counts = new Float64Array(METHODS.length * TRANSPORTS.length * OUTCOMES.length);
  readonly #durations = METHODS.map(() => new BucketHistogram(DECISION_SECONDS_BUCKETS));

  decided(method: string, transport: string, outcome: DecisionOutcome, started: number, shadow = false): void {
    const m = method === 'INVITE' ? 1 : method === 'REGISTER' ? 0 : -1;
    if (m < 0) return;
    const t = TRANSPORT_SLOT.get(transport) ?? OTHER_TRANSPORT;
    const i = (m * TRANSPORTS.length + t) * OUTCOMES.length + slotOf(outcome, shadow);
    this.#counts[i] = (this.#counts[i] as number) + 1;
    (this.#durations[m] as BucketHistogram).observe((performance.now() - started) / 1000);
  }

  /** Every label set that was counted at least once (series appear once they happen). */
  samples(): Sample[] {
    const out: Sample[] = [];
    this.#counts.forEach((value, i) => {
      if (value === 0) return;
      const o = OUTCOMES[i % OUTCOMES.length] as OutcomeLabels;
      const rest = Math.floor(i / OUTCOMES.length);
      const transport = TRANSPORTS[rest % TRANSPORTS.length] as string;
      const method = METHODS[Math.floor(rest / TRANSPORTS.length)] as string;
      out.push({ labels: { method, transport, decision: o.decision, reason: o.reason }, value });
    });
    return out;
  }

  durationSamples(name: string): Sample[] {
    return METHODS.flatMap((method, m) => (this.#durations[m] as BucketHistogram).samples(name, { method }));
  }

  /** Decisions so far: all, and refusals by reason-table label (for `sipwarden status`). */
  totals(): DecisionTotals {
    let decided = 0;
    let faults = 0;
    let wouldRefuse = 0;
    const denied: Record<string, number> = {};
    for (const s of this.samples()) {
      decided += s.value;
      if (s.labels.decision === 'deny') denied[s.labels.reason as string] = (denied[s.labels.reason as string] ?? 0) + s.value;
      if (s.labels.decision === 'would_refuse') wouldRefuse += s.value;
      if (s.labels.decision === 'fault') faults += s.value;
    }
    return { decided, denied, wouldRefuse, faults };
  }

  /** The largest number of series `sipwarden_decisions_total` can have. */
  static readonly MAX_SERIES = METHODS.length * TRANSPORTS.length * OUTCOMES.length;
}

function slotOf(outcome: DecisionOutcome, shadow: boolean): number {
  if (outcome === 'fault') return FAULT_SLOT;
  if (outcome === 'not-served') return NOT_SERVED_SLOT;
  if (outcome === 'not-recorded') return NOT_RECORDED_SLOT;
  if (outcome.kind === 'allow') return ALLOW_SLOT.get(outcome.basis) ?? FAULT_SLOT;
  const slot = DENY_SLOT.get(outcome.reason);
  if (slot === undefined) return FAULT_SLOT;
  return shadow ? slot + CODES.length : slot;
}
