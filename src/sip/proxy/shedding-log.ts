import type { Logger } from 'pino';
import type { OverloadReport } from './overload-control.js';

const EVERY_MS = 1000;

/**
 * The log of load shedding: never a line per refused request (a flood must not become a log
 * flood, nor cost more than the refusal), but a warning when shedding starts, one line a second
 * with the count while it goes on, and the total when it is over.
 */
export class SheddingLog {
  readonly #log: Logger;
  readonly #clock: () => number;
  #shedding = false;
  #pending = 0;
  #total = 0;
  /** Start of the period the next count line covers. */
  #window = 0;
  #since = 0;

  constructor(log: Logger, clock: () => number = Date.now) {
    this.#log = log;
    this.#clock = clock;
  }

  /** One request refused; logs the count at most once a second. */
  shed(report: OverloadReport): void {
    this.#pending++;
    this.#total++;
    const now = this.#clock();
    if (now - this.#window < EVERY_MS) return;
    this.#line(now, report);
  }

  /** The controller's state after an update: logs when shedding starts and when it ends. */
  observe(report: OverloadReport): void {
    const shedding = report.shedProbability > 0;
    if (shedding === this.#shedding) return;
    this.#shedding = shedding;
    const now = this.#clock();
    if (shedding) {
      this.#since = now;
      this.#window = now;
      this.#total = 0;
      this.#log.warn({ delayMs: round(report.delayMs), shedProbability: round(report.shedProbability) }, 'overload: shedding new REGISTERs and INVITEs with 503');
      return;
    }
    if (this.#pending > 0) this.#line(now, report);
    this.#log.info({ shed: this.#total, ms: now - this.#since }, 'overload over: no longer shedding');
  }

  #line(now: number, report: OverloadReport): void {
    this.#log.warn(
      { shed: this.#pending, ms: now - this.#window, delayMs: round(report.delayMs), shedProbability: round(report.shedProbability) },
      'overload: requests refused with 503',
    );
    this.#pending = 0;
    this.#window = now;
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
