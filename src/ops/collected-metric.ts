import type { Gauge, Registry } from 'prom-client';

/** One series of a metric: its labels and value (`metricName` for a histogram's `_bucket`, `_sum`, `_count`). */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName?: string;
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface CollectedMetricSpec {
  /** `sipwarden_…`, base units, `_total` for counters (Prometheus naming conventions). */
  readonly name: string;
  readonly help: string;
  readonly type: MetricKind;
  /** Read at scrape time from the counters and state the sidecar keeps anyway. */
  readonly samples: () => readonly Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Registers a metric whose series are read at scrape time from plain counters and state, instead
 * of a prom-client Counter or Gauge updated as things happen. prom-client's `inc()` with labels
 * costs about a microsecond (it hashes the label set), a field increment a few nanoseconds, and
 * the SIP path should pay no more than that; prom-client still formats the exposition and adds
 * its process defaults. The registry accepts any object with prom-client's metric shape (`name`,
 * `help`, `type`, `aggregator`, `get`, `reset`), which its typings do not describe, hence the cast.
 */
export function registerCollected(registry: Registry, spec: CollectedMetricSpec): void {
  if (!NAME.test(spec.name)) throw new Error(`invalid metric name: ${spec.name}`);
  if (spec.type === 'counter' && !spec.name.endsWith('_total')) throw new Error(`a counter's name ends with _total: ${spec.name}`);
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: 'sum',
    get: async () => ({ name: spec.name, help: spec.help, type: spec.type, aggregator: 'sum', values: spec.samples() }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Gauge);
}

/** One unlabelled series. */
export function single(value: number): readonly Sample[] {
  return [{ labels: {}, value }];
}
