/** How the proxy sheds load past its capacity (config `sip.overload`). */
export interface OverloadSettings {
  readonly enabled: boolean;
  /**
   * The queueing delay to keep new requests under: how long a datagram waits in the receive queue
   * (and the event loop) before the proxy reads it. Well under T1 = 500 ms, so that what is
   * accepted is answered before the client retransmits (RFC 3261 §17.1.2.2).
   */
  readonly targetDelayMs: number;
  /** Bounds of the random Retry-After of a 503, in seconds (RFC 3261 §20.33). */
  readonly retryAfter: { readonly min: number; readonly max: number };
}

export const DEFAULT_OVERLOAD: OverloadSettings = Object.freeze({
  enabled: true,
  targetDelayMs: 50,
  retryAfter: Object.freeze({ min: 5, max: 20 }),
});

/** How often the controller is updated: RFC 8033 §4.2 suggests 15 ms; a multiple of the probe period. */
export const UPDATE_INTERVAL_MS = 20;

/**
 * Gains per second of delay error for a 15 ms update interval (scaled below): twice RFC 8033
 * §4.2's, and without its auto-tuning (gains divided by up to 2048 while the probability is
 * small), which suits TCP senders that slow down at the first drops. SIP clients keep sending at
 * the same rate when refused, so a slow start only lets the queue grow towards T1: in a simulation
 * of 2× overload, the p99 wait of accepted requests was 270 ms with §4.2's values, 130 ms with these.
 */
const ALPHA = 0.25;
const BETA = 2.5;
/** RFC 8033 §4.3 burst allowance: a queue that builds for less than this sheds nothing. */
const MAX_BURST_MS = 150;

export interface OverloadReport {
  /** Share of new REGISTERs and initial INVITEs refused now, 0 to 1. */
  readonly shedProbability: number;
  /** The last measured queueing delay, ms. */
  readonly delayMs: number;
}

/**
 * Load shedding on a measured queueing delay, after PIE (RFC 8033): every update, the probability
 * of refusing a new request moves by α·(delay − target) + β·(delay − previous delay), and decays
 * when the queue is empty; a burst shorter than 150 ms sheds nothing (§4.3), so that a pause of
 * the process (a GC, a busy neighbour) is not mistaken for overload; and nothing is shed while the
 * last measured delay is under half the target, whatever the probability (§4.1's safeguard,
 * without its "probability under 20 %" condition): the probability is a slow integral, so after a
 * queue that built up and drained (a start under load, a scheduling stall) it stays high for
 * seconds — measured in `bench:sip`: 0.55 with an empty queue, then 0.5 s of refusals for nothing.
 * Under sustained overload the queue then hovers near half the target instead of at it, still far
 * under T1. Pure: the delay and the random draw come from the caller.
 *
 * Why delay, and not load or event-loop lag: a UDP proxy collapses when datagrams wait in its
 * receive queue until clients retransmit (T1 = 500 ms), doubling the work; the event loop stays
 * responsive all along (libuv reads at most 32 datagrams per turn), so its lag does not see it.
 */
export class OverloadControl {
  readonly #target: number;
  readonly #retryMin: number;
  readonly #retrySpan: number;
  readonly #scale: number;
  readonly #interval: number;
  /** Under this last measured delay (ms) nothing is shed: the queue is short, whatever #p says. */
  readonly #shortQueueMs: number;
  #p = 0;
  #allowance = MAX_BURST_MS;
  #delay = 0;
  #previous = 0;

  constructor(settings: OverloadSettings, updateIntervalMs = UPDATE_INTERVAL_MS) {
    this.#target = settings.targetDelayMs / 1000;
    this.#retryMin = settings.retryAfter.min;
    this.#retrySpan = settings.retryAfter.max - settings.retryAfter.min + 1;
    this.#scale = updateIntervalMs / 15;
    this.#interval = updateIntervalMs;
    this.#shortQueueMs = settings.targetDelayMs / 2;
  }

  /** One controller step with the queueing delay measured since the last one, in ms. */
  update(delayMs: number): void {
    const current = delayMs / 1000;
    const p = this.#p;
    let next = p + this.#scale * (ALPHA * (current - this.#target) + BETA * (current - this.#previous));
    // §4.2: under heavy congestion (delay far over the target), move faster.
    if (current > 8 * this.#target) next += 0.02;
    // §4.2: once the queue is gone, let the probability decay.
    if (current < this.#target / 2 && this.#previous < this.#target / 2) next *= 0.98;
    this.#p = Math.min(1, Math.max(0, next));
    if (this.#p < 0.0001 && current < this.#target / 2) this.#p = 0;
    const calm = this.#p === 0 && current < this.#target / 2 && this.#previous < this.#target / 2;
    this.#allowance = calm ? MAX_BURST_MS : Math.max(0, this.#allowance - this.#interval);
    this.#previous = current;
    this.#delay = delayMs;
  }

  /** Whether to refuse one new request now; `draw` is uniform in [0, 1). Costs nothing when not overloaded. */
  shed(draw: () => number = Math.random): boolean {
    return this.#shedding() && draw() < this.#p;
  }

  /** A Retry-After in whole seconds, uniform between the bounds, so refused clients do not return together. */
  retryAfter(draw: () => number = Math.random): number {
    return this.#retryMin + Math.floor(draw() * this.#retrySpan);
  }

  report(): OverloadReport {
    return { shedProbability: this.#shedding() ? this.#p : 0, delayMs: this.#delay };
  }

  #shedding(): boolean {
    return this.#p > 0 && this.#allowance === 0 && this.#delay >= this.#shortQueueMs;
  }
}
