import type { Registry } from 'prom-client';
import type { SnapshotIndex } from '../policy/snapshot-builder.js';
import { PING_RESULTS, type UpstreamPing } from '../sip/proxy/upstream-ping.js';
import type { OutboxSummary } from '../store/operations-queries.js';
import type { BucketHistogram } from './bucket-histogram.js';
import { registerCollected, single, type Sample } from './collected-metric.js';
import type { Readiness } from './readiness.js';

export interface HealthMetricSources {
  readonly snapshot: () => SnapshotIndex;
  readonly snapshotAgeMs: () => number;
  /** Durations of the snapshot reloads that found a change, seconds. */
  readonly reloads: BucketHistogram;
  readonly reloadErrors: () => number;
  readonly outbox: () => OutboxSummary;
  readonly upstream: UpstreamPing | null;
  readonly readiness: Readiness;
  readonly clock: () => number;
  /** Whether the SIP path's writes (install claims, last-seen times) get into the store. */
  readonly storeWritable: () => boolean;
}

/** Seconds a reload of changed trees takes: one small tree in well under a millisecond, the whole of a large store in seconds. */
export const RELOAD_SECONDS_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * What an operator watches besides the SIP traffic: the licence snapshot's freshness and reload
 * times, the push-notification outbox, the upstream's answers to the sidecar's OPTIONS pings and
 * the readiness checks. Read at scrape time.
 */
export function registerHealthMetrics(registry: Registry, s: HealthMetricSources): void {
  registerCollected(registry, {
    name: 'sipwarden_snapshot_age_seconds',
    help: 'Seconds since the licence snapshot was last found current with the database (polled every reload.intervalMs; grows while reloads fail).',
    type: 'gauge',
    samples: () => single(s.snapshotAgeMs() / 1000),
  });
  registerCollected(registry, {
    name: 'sipwarden_snapshot_reload_duration_seconds',
    help: 'Time to reload the licence trees a change touched (CLI changes, other writers).',
    type: 'histogram',
    samples: () => s.reloads.samples('sipwarden_snapshot_reload_duration_seconds'),
  });
  registerCollected(registry, {
    name: 'sipwarden_snapshot_reload_errors_total',
    help: 'Snapshot reloads that failed (decisions go on with the last good snapshot).',
    type: 'counter',
    samples: () => single(s.reloadErrors()),
  });
  registerCollected(registry, {
    name: 'sipwarden_snapshot_entries',
    help: 'What the in-memory licence snapshot holds: groups (root groups), users, numbers, installs (licensed).',
    type: 'gauge',
    samples: () => Object.entries(s.snapshot().stats()).map(([kind, value]) => ({ labels: { kind }, value })),
  });
  registerCollected(registry, {
    name: 'sipwarden_outbox_events',
    help: 'Lifecycle events in the push-notification outbox by status: pending, delivered, failed (given up on a 4xx), dead (not delivered within notify.maxAgeHours).',
    type: 'gauge',
    samples: () => Object.entries(s.outbox().byStatus).map(([status, value]) => ({ labels: { status }, value })),
  });
  registerCollected(registry, {
    name: 'sipwarden_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest pending outbox event, seconds (0 when none is pending).',
    type: 'gauge',
    samples: () => {
      const at = s.outbox().oldestPendingAt;
      return single(at === null ? 0 : Math.max(0, (s.clock() - at) / 1000));
    },
  });
  const ping = s.upstream;
  if (ping !== null) {
    registerCollected(registry, {
      name: 'sipwarden_upstream_up',
      help: "1 when the upstream SIP server answered the sidecar's last OPTIONS ping (a final response below 500), else 0.",
      type: 'gauge',
      samples: () => single(ping.state.up === true ? 1 : 0),
    });
    registerCollected(registry, {
      name: 'sipwarden_upstream_ping_rtt_seconds',
      help: 'Round-trip time of the last answered OPTIONS ping to the upstream.',
      type: 'gauge',
      samples: (): readonly Sample[] => (ping.state.lastRttMs === null ? [] : single(ping.state.lastRttMs / 1000)),
    });
    registerCollected(registry, {
      name: 'sipwarden_upstream_pings_total',
      help: 'OPTIONS pings to the upstream by result: answered (below 500), unavailable (5xx, 6xx), timeout (health.upstreamPing.timeoutMs), error (unreachable).',
      type: 'counter',
      samples: () => PING_RESULTS.map((result) => ({ labels: { result }, value: ping.counts()[result] })),
    });
  }
  registerCollected(registry, {
    name: 'sipwarden_store_writable',
    help: "1 while the install writer's last write got into the store, 0 while it is locked, read-only or full (new installs are answered 503 then; not a readiness check, as licensed devices keep working).",
    type: 'gauge',
    samples: () => single(s.storeWritable() ? 1 : 0),
  });
  registerCollected(registry, {
    name: 'sipwarden_ready',
    help: 'Readiness by check (database, snapshot, upstream), 1 passing and 0 failing; /readyz answers 200 only when every check passes.',
    type: 'gauge',
    samples: () => s.readiness.report().checks.map((c) => ({ labels: { check: c.name }, value: c.ok ? 1 : 0 })),
  });
}
