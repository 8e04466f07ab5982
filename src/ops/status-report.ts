import type { Config } from '../config/schema.js';
import { windowState, type WindowState } from '../policy/window.js';
import type { ConnectionReport } from '../sip/transports/connection-stats.js';
import type { EmbeddedProxy } from '../sip/proxy/embedded-proxy.js';
import type { UpstreamState } from '../sip/proxy/upstream-ping.js';
import type { LiveSnapshot } from '../store/live-snapshot.js';
import type { InstallCounts, OutboxSummary } from '../store/operations-queries.js';
import type { StoreWriteState } from '../store/store-health.js';
import type { DecisionTotals } from './decision-counts.js';
import type { ReadinessReport } from './readiness.js';

/** What `GET /status` returns and `sipwarden status` prints: one screen for an engineer on the box. */
export interface StatusReport {
  readonly sipwarden: {
    readonly version: string;
    readonly pid: number;
    readonly mode: 'embedded' | 'drachtio';
    /** policy.mode: enforce or shadow (projects may override it). */
    readonly policyMode: 'enforce' | 'shadow';
    readonly startedAt: string;
    readonly uptimeSeconds: number;
  };
  readonly ready: ReadinessReport;
  readonly sip: {
    /** Bound listeners (embedded mode). */
    readonly listen: Readonly<Record<string, string>>;
    readonly upstream: string;
    readonly upstreamPing: UpstreamState | null;
    /** Counters of the embedded proxy; null in drachtio mode. */
    readonly traffic: {
      readonly received: number;
      readonly requestsForwarded: number;
      readonly responsesForwarded: number;
      readonly localReplies: number;
      readonly dropped: number;
      readonly malformed: number;
    } | null;
    readonly connections: Readonly<Record<string, { readonly open: number; readonly refused: number; readonly closedByLimits: number }>>;
  };
  readonly decisions: DecisionTotals;
  readonly licenses: {
    readonly snapshotAgeSeconds: number;
    readonly projects: Readonly<Record<WindowState, number>>;
    readonly numbers: number;
    readonly installs: InstallCounts;
  };
  readonly outbox: { readonly byStatus: OutboxSummary['byStatus']; readonly oldestPendingAgeSeconds: number | null };
  /** Whether the install writer's writes get in; the fault kind while they do not. */
  readonly store: { readonly writable: boolean; readonly fault: string | null };
}

export interface StatusSources {
  readonly version: string;
  readonly config: Config;
  readonly startedAt: number;
  readonly now: number;
  readonly readiness: ReadinessReport;
  readonly upstream: UpstreamState | null;
  readonly proxy: EmbeddedProxy | null;
  readonly decisions: StatusReport['decisions'];
  readonly live: LiveSnapshot;
  readonly outbox: OutboxSummary;
  readonly installs: InstallCounts;
  readonly store: StoreWriteState;
}

export function statusReport(s: StatusSources): StatusReport {
  const { config, proxy, now } = s;
  const up = config.sip.upstream;
  const index = s.live.index;
  const projects: Record<WindowState, number> = { active: 0, 'not-yet-valid': 0, expired: 0, unrestricted: 0 };
  for (const rootId of index.rootIds()) {
    const g = index.group(rootId);
    projects[g === undefined ? 'unrestricted' : windowState(g, now)]++;
  }
  const listen: Record<string, string> = {};
  for (const [name, a] of Object.entries(proxy?.addresses ?? {})) if (a !== undefined) listen[name] = `${a.host}:${a.port}`;
  const connections: Record<string, { open: number; refused: number; closedByLimits: number }> = {};
  for (const [name, r] of Object.entries(proxy?.connections() ?? {}) as [string, ConnectionReport | undefined][]) {
    if (r === undefined) continue;
    connections[name] = {
      open: r.open,
      refused: r.refusedTotal + r.refusedPerSource,
      closedByLimits: r.closedIdle + r.closedReadTimeout + r.closedWriteQueue + r.closedOversized,
    };
  }
  const stats = proxy?.stats ?? null;
  return {
    sipwarden: {
      version: s.version,
      pid: process.pid,
      mode: config.sip.mode,
      policyMode: config.policy.mode,
      startedAt: new Date(s.startedAt).toISOString(),
      uptimeSeconds: Math.round((now - s.startedAt) / 1000),
    },
    ready: s.readiness,
    sip: {
      listen,
      upstream: `${up.transport}:${up.host}:${up.port}`,
      upstreamPing: s.upstream,
      traffic:
        stats === null
          ? null
          : {
              received: stats.received,
              requestsForwarded: stats.requestsForwarded,
              responsesForwarded: stats.responsesForwarded,
              localReplies: stats.localReplies,
              dropped: stats.dropped,
              malformed: stats.malformed,
            },
      connections,
    },
    decisions: s.decisions,
    licenses: {
      snapshotAgeSeconds: Math.round(s.live.checkedAgoMs()) / 1000,
      projects,
      numbers: index.stats().numbers,
      installs: s.installs,
    },
    outbox: {
      byStatus: s.outbox.byStatus,
      oldestPendingAgeSeconds: s.outbox.oldestPendingAt === null ? null : Math.max(0, Math.round((now - s.outbox.oldestPendingAt) / 1000)),
    },
    store: { writable: s.store.writable, fault: s.store.writable ? null : s.store.fault.kind },
  };
}
