import type { Sample } from './collected-metric.js';

/**
 * A Prometheus histogram kept as plain numbers: `observe` is a short scan of the bounds and two
 * additions, cheap enough for every SIP decision; `samples` gives the cumulative `_bucket`
 * (`le`), `_sum` and `_count` series at scrape time.
 */
export class BucketHistogram {
  readonly #bounds: readonly number[];
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** `bounds` ascending, in the metric's unit (seconds). */
  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) throw new Error('histogram bounds must ascend');
    }
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  samples(name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += this.#counts[i] as number;
      const le = i < this.#bounds.length ? String(this.#bounds[i]) : '+Inf';
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    }
    out.push({ metricName: `${name}_sum`, labels, value: this.#sum });
    out.push({ metricName: `${name}_count`, labels, value: this.#count });
    return out;
  }
}
