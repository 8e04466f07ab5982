/**
 * A rate limit on one kind of log line: up to `perSecond` lines in each second are written, the
 * rest only counted, and the count is reported within a second by `flush` — so that a flood of
 * refusals costs a bounded number of log lines and loses no count. Lines let through carry the
 * count of those left out before them, so `written + Σ suppressed` is every event.
 */
export class LogSampler {
  readonly #perSecond: number;
  readonly #flush: (suppressed: number) => void;
  readonly #clock: () => number;
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;
  #timer: NodeJS.Timeout | null = null;

  /** `flush` reports a count of suppressed lines when no line let through has carried it within a second. */
  constructor(perSecond: number, flush: (suppressed: number) => void, clock: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#flush = flush;
    this.#clock = clock;
  }

  /**
   * Whether to write this line. When it returns a number, write the line and add that count of
   * lines left out since the last one written (0: none); null: leave the line out.
   */
  take(): number | null {
    const now = this.#clock();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow < this.#perSecond) {
      this.#inWindow++;
      const carried = this.#suppressed;
      this.#suppressed = 0;
      return carried;
    }
    this.#suppressed++;
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.flush(), 1000);
      this.#timer.unref();
    }
    return null;
  }

  /** Reports the lines left out and not yet carried by a written one. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#suppressed === 0) return;
    const count = this.#suppressed;
    this.#suppressed = 0;
    this.#flush(count);
  }
}
