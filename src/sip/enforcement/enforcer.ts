import type { Logger } from 'pino';
import type { Decision } from '../../policy/decision.js';
import type { EnforcementMode } from '../../policy/enforcement-mode.js';
import { modeOfRefusal } from '../../policy/refusal-mode.js';
import { evaluateInvite } from '../../policy/evaluate-invite.js';
import { evaluateRegister } from '../../policy/evaluate-register.js';
import type { InstallInput, InstallLedger, LedgerClaim } from '../../policy/install-ledger.js';
import type { ReasonCode } from '../../policy/reason-code.js';
import { recogniseInstall } from '../../policy/recognise-install.js';
import type { PolicyOptions, RegisterFacts } from '../../policy/request-facts.js';
import type { LicenseSnapshot } from '../../policy/snapshot.js';
import { LogSampler } from './log-sampler.js';
import type { DecisionObserver } from './decision-observer.js';
import { extractInvite, extractInviteToClient, extractRegister, type AppDetection, type AppInstallFacts, type ExtractedRegister } from './extract-facts.js';
import { flowText } from '../transports/flow.js';
import { FORWARD, type Reply, type Verdict } from '../proxy/gate.js';
import { refusalTable } from './refusal.js';
import { RegisteredFlows } from './registered-flows.js';
import type { RequestView } from './request-view.js';
import { ServedDomains } from './served-domains.js';

/** Where a request came from, for the decision and its log line. */
export interface RequestOrigin {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  /**
   * Which leg (issue 9, item 2): a client's request (its caller and its Request-URI callee are
   * checked), or one the SIP server relays to a client (only the callee: who the call is for).
   * Absent: from a client.
   */
  readonly leg?: 'from-client' | 'from-upstream';
  /** From the upstream: the client flow it goes to, whose registered numbers are the callee. */
  readonly clientFlow?: { readonly transport: string; readonly address: string; readonly port: number } | null;
}

export interface EnforcerOptions {
  readonly policy: PolicyOptions;
  readonly detection: AppDetection;
  /**
   * Whether the SIP server tells AoRs apart by domain (Kamailio usrloc `use_domain`). False (the
   * default): the domain is ignored and every request is enforced (servedDomains is not used).
   */
  readonly useDomain?: boolean;
  /** With useDomain: the SIP domains whose numbers are licensed here; empty = every domain. */
  readonly servedDomains: readonly string[];
  /**
   * What a fault inside enforcement does: pass the request, or 503 with Retry-After. A new
   * install's licence that the store could not record is never granted, whichever is set: that
   * REGISTER is answered 503 with Retry-After (issue 8, item 5).
   */
  readonly onInternalError: 'fail-open' | 'fail-closed';
  /**
   * policy.mode: `shadow` forwards what would be refused, after logging and counting it; a
   * project's own setting wins (see src/policy/enforcement-mode.ts). Default enforce.
   */
  readonly mode?: EnforcementMode;
  /** The host named in `Warning: 399 <host> "..."` (RFC 3261 §20.43). */
  readonly warnAgent: string;
  /** Refusal log lines written per second at most; the others are counted (default 200). */
  readonly refusalLinesPerSecond?: number;
  /**
   * Whether the numbers registered on each client flow are kept for the calls the SIP server
   * relays back to that flow (`leg: 'from-upstream'`, see RegisteredFlows). Only the embedded
   * proxy sees that leg; drachtio mode never does, so it keeps nothing (default true).
   */
  readonly rememberFlows?: boolean;
}

/** The fields of one decision line (see #verdict), for an observer such as SIP capture. */
export type DecisionLine = Readonly<Record<string, unknown>>;

export interface EnforcerDeps {
  readonly snapshot: () => LicenseSnapshot;
  readonly installs: InstallLedger;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Told of every decision, allowed or refused, with the fields of its log line (HEP capture). */
  readonly onDecision?: (callId: string | null, line: DecisionLine, origin: RequestOrigin) => void;
  /** Told of every decision (the metrics); default none. */
  readonly observer?: DecisionObserver;
}

/** RFC 3261 §21.5.4: 503 only for our own trouble, with Retry-After so clients back off. */
export const UNAVAILABLE: Verdict = Object.freeze({
  action: 'reply',
  status: 503,
  reason: 'Service Unavailable',
  headers: Object.freeze([Object.freeze(['Retry-After', '5'] as const)]),
});

/**
 * Decides REGISTER and initial INVITE requests: request → facts → policy → (store claim for a new
 * app install) → forward or 403. Shared by the embedded proxy and the drachtio adapter, so both
 * enforce and log identically. Synchronous from the snapshot, so the proxy's hot path allocates no
 * Promise; only a new install's claim, which the store must write first, answers with a Promise.
 */
export class Enforcer {
  readonly #refusals: Readonly<Record<ReasonCode, Reply>>;
  readonly #domains: ServedDomains;
  readonly #flows = new RegisteredFlows();
  readonly #refusalLines: LogSampler;

  constructor(
    private readonly deps: EnforcerDeps,
    private readonly options: EnforcerOptions,
  ) {
    this.#refusals = refusalTable(options.warnAgent);
    this.#domains = new ServedDomains(options.useDomain ?? false, options.servedDomains);
    // A flood of refusals (a whole expired project re-registering) must not become a log flood.
    this.#refusalLines = new LogSampler(options.refusalLinesPerSecond ?? 200, (suppressed) =>
      deps.logger.info({ suppressed }, 'refusals not logged one by one (log rate limit)'),
    );
  }

  decide(view: RequestView, origin: RequestOrigin): Verdict | Promise<Verdict> {
    const started = performance.now();
    try {
      if (view.method === 'REGISTER') return this.#register(view, origin, started);
      if (view.method === 'INVITE') return this.#invite(view, origin, started);
      return FORWARD;
    } catch (err) {
      return this.#fault(err, view, origin, started);
    }
  }

  #fault(err: unknown, view: RequestView, origin: RequestOrigin, started: number): Verdict {
    this.deps.observer?.decided(view.method, origin.transport, 'fault', started);
    this.deps.logger.error(
      { err, callId: view.callId, method: view.method, onInternalError: this.options.onInternalError },
      'enforcement fault',
    );
    return this.options.onInternalError === 'fail-open' ? FORWARD : UNAVAILABLE;
  }

  #register(view: RequestView, origin: RequestOrigin, started: number): Verdict | Promise<Verdict> {
    const extracted = extractRegister(view, this.options.detection, this.#domains);
    if (!extracted.served) return this.#notServed(view, origin, started);
    const { facts } = extracted;
    const verdict = this.#registerVerdict(extracted, view, origin, started);
    if (origin.leg === 'from-upstream' || facts.identity === null || this.options.rememberFlows === false) return verdict;
    // Which numbers a client flow registered, for the calls that later come to it (RegisteredFlows).
    const remember = (v: Verdict): Verdict => {
      if (v.action === 'forward') this.#remember(origin, facts);
      return v;
    };
    return isVerdict(verdict) ? remember(verdict) : verdict.then(remember);
  }

  #remember(origin: RequestOrigin, facts: RegisterFacts): void {
    if (facts.identity === null) return;
    if (facts.isDeregister) this.#flows.deregistered(flowText(origin), facts.identity);
    else this.#flows.registered(flowText(origin), facts.identity);
  }

  #registerVerdict(
    extracted: ExtractedRegister,
    view: RequestView,
    origin: RequestOrigin,
    started: number,
  ): Verdict | Promise<Verdict> {
    const now = this.deps.clock();
    const snapshot = this.deps.snapshot();
    const { facts, app } = recognised(extracted, snapshot);
    const decision = evaluateRegister(facts, snapshot, now, this.options.policy);
    const number = facts.identity;
    if (app === null || number === null) return this.#verdict(decision, view, origin, facts.installId, started);
    const input = installInput(app, facts.installId ?? app.installId, number, view, now);
    if (decision.kind === 'deny' || !decision.claimInstall) {
      this.#recordInstall(decision, input);
      return this.#verdict(decision, view, origin, facts.installId, started);
    }
    // The policy only decides; a new install's license is taken by the store, which re-checks the
    // limits in one transaction (and keeps a refused install's row with its push parameters), and
    // the reply follows its answer.
    return this.deps.installs.claim(input).then(
      (claim) => this.#claimVerdict(claim, decision, view, origin, facts.installId, started),
      (err: unknown) => {
        // Not fail-open here: forwarding would grant a licence nobody recorded.
        this.deps.observer?.decided(view.method, origin.transport, 'fault', started);
        this.deps.logger.error({ err, callId: view.callId, method: view.method }, 'enforcement fault while claiming an install');
        return UNAVAILABLE;
      },
    );
  }

  #invite(view: RequestView, origin: RequestOrigin, started: number): Verdict {
    if (origin.leg === 'from-upstream') return this.#inviteToClient(view, origin, started);
    const extracted = extractInvite(view, this.options.detection, this.#domains);
    if (!extracted.served) return this.#notServed(view, origin, started);
    const snapshot = this.deps.snapshot();
    const { facts } = recognised(extracted, snapshot);
    const decision = evaluateInvite(facts, snapshot, this.deps.clock(), this.options.policy);
    return this.#verdict(decision, view, origin, facts.installId, started);
  }

  /**
   * An INVITE the SIP server relays to a client (issue 9, item 2): its caller is the SIP server's
   * to vouch for (a door panel registered there need not be known here, even in strict mode);
   * only the callee is checked. The callee is who the call is for: the To AoR, read as the
   * registrar reads it (the Request-URI is the client's Contact by now), and, when To names none
   * of the numbers that registered on the client flow it goes to, each of those numbers too.
   */
  #inviteToClient(view: RequestView, origin: RequestOrigin, started: number): Verdict {
    const { facts, served } = extractInviteToClient(view, this.#domains);
    if (!served) return this.#notServed(view, origin, started);
    const onFlow = origin.clientFlow ? this.#flows.numbers(flowText(origin.clientFlow)) : [];
    // The To AoR is always checked: a number the flow no longer lists (pushed out of its bounded
    // list by others registered from the same flow) is still who the call names. When To names
    // none of the flow's numbers, each of them is checked too: To is the caller's to write.
    const named = facts.callee !== null && onFlow.includes(facts.callee);
    const callees = onFlow.length === 0 || named ? [facts.callee] : facts.callee === null ? onFlow : [facts.callee, ...onFlow];
    const snapshot = this.deps.snapshot();
    const now = this.deps.clock();
    // An unreadable To matters only when the flow names no number.
    const unreadable = onFlow.length === 0 ? facts.unreadable : null;
    const decide = (callee: string | null): Decision => evaluateInvite({ ...facts, callee, unreadable }, snapshot, now, this.options.policy);
    let decision = decide(callees[0] ?? null);
    for (let i = 1; i < callees.length && decision.kind === 'allow'; i++) decision = decide(callees[i] ?? null);
    return this.#verdict(decision, view, origin, null, started);
  }

  /**
   * Refused installs keep their push parameters for the renewal push; licensed ones, and any
   * install that de-registers, their last-seen time (an app that de-registers is in use: the idle
   * release must not take its licence).
   */
  #recordInstall(decision: Decision, input: InstallInput): void {
    if (decision.kind === 'deny') {
      if (decision.reason !== 'unknown-number') this.deps.installs.recordRefused(input);
    } else if (decision.basis === 'install-licensed' || decision.basis === 'deregister') {
      this.deps.installs.touch(input);
    }
  }

  #claimVerdict(
    claim: LedgerClaim,
    decision: Decision,
    view: RequestView,
    origin: RequestOrigin,
    install: string | null,
    started: number,
  ): Verdict {
    if (claim.outcome === 'granted') return this.#verdict(decision, view, origin, install, started);
    if (claim.outcome === 'refused') {
      return this.#verdict({ kind: 'deny', reason: claim.reason, details: decision.details }, view, origin, install, started);
    }
    // Not recorded, so not granted: the client retries after Retry-After (RFC 3261 §21.5.4).
    this.deps.observer?.decided(view.method, origin.transport, 'not-recorded', started);
    const line = { ...this.#line(view, origin, install, decision, 'unavailable', 'install-not-recorded', started), fault: claim.fault.kind };
    // A burst of new installs during a store fault is a refusal flood too: same rate limit.
    const suppressed = this.#refusalLines.take();
    if (suppressed !== null) this.deps.logger.child({ callId: view.callId }).info(suppressed > 0 ? { ...line, suppressed } : line, 'unavailable');
    this.deps.onDecision?.(view.callId, line, origin);
    return UNAVAILABLE;
  }

  /**
   * One shape for every decision (issue 9, item 5): the number and its project, the callee and
   * its project for an INVITE, the install for the mobile app; absent fields are left out.
   */
  #line(
    view: RequestView,
    origin: RequestOrigin,
    install: string | null,
    decision: Decision,
    outcome: string,
    reason: string,
    started: number,
  ) {
    const d = decision.details;
    return {
      method: view.method,
      leg: origin.leg ?? 'from-client',
      transport: origin.transport,
      source: flowText(origin),
      number: d.number ?? null,
      group: d.group ?? null,
      callee: d.callee,
      calleeGroup: d.calleeGroup,
      install: install ?? undefined,
      decision: outcome,
      reason,
      problem: d.problem,
      us: Math.round((performance.now() - started) * 1000),
    };
  }

  #notServed(view: RequestView, origin: RequestOrigin, started: number): Verdict {
    this.deps.observer?.decided(view.method, origin.transport, 'not-served', started);
    return FORWARD;
  }

  #verdict(
    decision: Decision,
    view: RequestView,
    origin: RequestOrigin,
    install: string | null,
    started: number,
  ): Verdict {
    const log = this.deps.logger;
    if (decision.kind === 'deny') {
      const applied = modeOfRefusal(decision, this.deps.snapshot(), this.options.mode ?? 'enforce');
      if (applied.mode === 'shadow') {
        this.deps.observer?.decided(view.method, origin.transport, decision, started, true);
        const line = { ...this.#line(view, origin, install, decision, 'would-refuse', decision.reason, started), mode: applied };
        log.child({ callId: view.callId }).info(line, 'would refuse');
        this.deps.onDecision?.(view.callId, line, origin);
        return FORWARD;
      }
    }
    this.deps.observer?.decided(view.method, origin.transport, decision, started);
    const denied = decision.kind === 'deny';
    const debug = log.isLevelEnabled('debug');
    const observe = this.deps.onDecision;
    if (denied || debug || observe !== undefined) {
      const line = this.#line(view, origin, install, decision, decision.kind, denied ? decision.reason : decision.basis, started);
      if (denied) {
        // A flood of refusals (a whole expired project re-registering) must not become a log
        // flood: the lines left out are counted in the next one written (`suppressed`).
        const suppressed = this.#refusalLines.take();
        if (suppressed !== null) log.child({ callId: view.callId }).info(suppressed > 0 ? { ...line, suppressed } : line, 'refused');
      } else if (debug) log.child({ callId: view.callId }).debug(line, 'allowed');
      observe?.(view.callId, line, origin);
    }
    return denied ? this.#refusals[decision.reason] : FORWARD;
  }
}

/**
 * The install a mobile-app request comes from, recognised by any identifier it was stored under
 * (issue 9: an app registered with `+sip.instance` whose INVITE carries only `pn-*` is still that
 * install). Looked up on the request's own number only, so no identifier reaches another
 * number's licence.
 */
function recognised<F extends { readonly identity: string | null; readonly installId: string | null }>(
  extracted: { readonly facts: F; readonly app: AppInstallFacts | null },
  snapshot: LicenseSnapshot,
): { readonly facts: F; readonly app: AppInstallFacts | null } {
  const { facts, app } = extracted;
  if (app === null || facts.identity === null) return extracted;
  const installId = recogniseInstall(snapshot, facts.identity, app.keys);
  return installId === facts.installId ? extracted : { facts: { ...facts, installId }, app };
}

function installInput(app: AppInstallFacts, instanceId: string, number: string, view: RequestView, now: number): InstallInput {
  return {
    instanceId,
    sipInstance: app.keys.instance,
    number,
    pnProvider: app.push?.provider ?? null,
    pnPrid: app.push?.prid ?? null,
    pnParam: app.push?.param ?? null,
    contact: app.contact,
    userAgent: view.userAgent,
    now,
  };
}

function isVerdict(v: Verdict | Promise<Verdict>): v is Verdict {
  return 'action' in v;
}
