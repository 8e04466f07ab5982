import type { Logger } from 'pino';
import { isLoopbackHost, type Config } from '../config/schema.js';
import type { EmbeddedProxy } from '../sip/proxy/embedded-proxy.js';
import { UpstreamPing, type UpstreamState } from '../sip/proxy/upstream-ping.js';
import type { Db } from '../store/database.js';
import type { LiveSnapshot } from '../store/live-snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import { databaseReadProblem, installCounts, outboxSummary } from '../store/operations-queries.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import { BucketHistogram } from './bucket-histogram.js';
import { DecisionCounts } from './decision-counts.js';
import { RELOAD_SECONDS_BUCKETS } from './health-metrics.js';
import { Readiness } from './readiness.js';
import { createSidecarMetrics, type SidecarMetrics } from './sidecar-metrics.js';
import { statusReport, type StatusReport } from './status-report.js';
import { sipwardenVersion } from './version.js';

/** Snapshot reloads as the metrics count them; LiveSnapshot's callbacks feed it. */
export class ReloadStats {
  readonly durations = new BucketHistogram(RELOAD_SECONDS_BUCKETS);
  errors = 0;

  reloaded(ms: number): void {
    this.durations.observe(ms / 1000);
  }

  failed(): void {
    this.errors++;
  }
}

export interface OperationsDeps {
  readonly db: Db;
  readonly live: LiveSnapshot;
  readonly reloads: ReloadStats;
  readonly storeHealth: StoreHealth;
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * The operator's view of a running sidecar: decision counters (the enforcer's observer), the
 * upstream OPTIONS ping, readiness, the Prometheus metrics and the admin HTTP listener. Made
 * before the SIP transport (which asks `readiness` about OPTIONS addressed to it), started after.
 */
export class Operations {
  readonly decisions = new DecisionCounts();
  readonly upstream: UpstreamPing | null;
  readonly readiness: Readiness;
  readonly metrics: SidecarMetrics;
  readonly #startedAt: number;
  #proxy: EmbeddedProxy | null = null;
  #admin: AdminServer | null = null;

  constructor(
    private readonly config: Config,
    private readonly deps: OperationsDeps,
  ) {
    const { db, live, logger, clock } = deps;
    this.#startedAt = clock();
    const ping = config.health.upstreamPing;
    const up = config.sip.upstream;
    // The ping's client transaction speaks UDP and TCP; a TLS upstream is left out of readiness (said once).
    if (ping !== null && up.transport === 'tls') {
      logger.warn({ upstream: `${up.transport}:${up.host}:${up.port}` }, 'health.upstreamPing does not ping a TLS upstream: readiness leaves the upstream out');
    }
    this.upstream =
      ping === null || up.transport === 'tls'
        ? null
        : new UpstreamPing({
            target: { host: up.host, port: up.port, transport: up.transport },
            intervalMs: ping.intervalMs,
            timeoutMs: ping.timeoutMs,
            clock,
            onChange: (state) => logUpstream(logger, state, config.sip.upstream),
          });
    const upstream = this.upstream;
    this.readiness = new Readiness({
      databaseProblem: () => databaseReadProblem(db),
      snapshotAgeMs: () => live.checkedAgoMs(),
      maxSnapshotAgeMs: config.health.maxSnapshotAgeMs,
      upstream: upstream === null ? null : () => upstream.state,
    });
    this.metrics = createSidecarMetrics({
      decisions: this.decisions,
      proxy: () => this.#proxy,
      version: sipwardenVersion(),
      mode: config.sip.mode,
      snapshot: () => live.index,
      snapshotAgeMs: () => live.checkedAgoMs(),
      reloads: deps.reloads.durations,
      reloadErrors: () => deps.reloads.errors,
      outbox: () => outboxSummary(db),
      installs: () => installCounts(db),
      upstream,
      readiness: this.readiness,
      storeWritable: () => deps.storeHealth.state.writable,
      clock,
      perProject: config.admin.projectMetrics,
    });
  }

  /** The admin listener's bound address; null when admin.listen is null or before start. */
  get adminAddress(): { readonly host: string; readonly port: number } | null {
    return this.#admin?.address ?? null;
  }

  /** The embedded proxy whose counters the metrics read (none in drachtio mode). */
  attachProxy(proxy: EmbeddedProxy | null): void {
    this.#proxy = proxy;
  }

  /** Starts the upstream ping and the admin listener (which fails loudly when its port is taken). */
  async start(): Promise<void> {
    this.upstream?.start();
    const listen = this.config.admin.listen;
    if (listen === null) return;
    if (!isLoopbackHost(listen.host)) {
      this.deps.logger.warn(
        { admin: listen },
        'admin listener on a non-loopback address (admin.allowRemote): /metrics and /status have no authentication and name every project; restrict it with a firewall',
      );
    }
    this.#admin = await startAdminServer({
      host: listen.host,
      port: listen.port,
      metrics: this.metrics,
      readiness: () => this.readiness.report(),
      status: () => this.status(),
      logger: this.deps.logger,
    });
  }

  status(): StatusReport {
    return statusReport({
      version: sipwardenVersion(),
      config: this.config,
      startedAt: this.#startedAt,
      now: this.deps.clock(),
      readiness: this.readiness.report(),
      upstream: this.upstream?.state ?? null,
      proxy: this.#proxy,
      decisions: this.decisions.totals(),
      live: this.deps.live,
      outbox: outboxSummary(this.deps.db),
      installs: installCounts(this.deps.db),
      store: this.deps.storeHealth.state,
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.#admin?.close(), this.upstream?.stop()]);
  }
}

function logUpstream(logger: Logger, state: UpstreamState, upstream: Config['sip']['upstream']): void {
  const target = `${upstream.transport}:${upstream.host}:${upstream.port}`;
  if (state.up) logger.info({ upstream: target, status: state.lastStatus, rttMs: state.lastRttMs }, 'upstream answering OPTIONS');
  else logger.warn({ upstream: target, result: state.lastResult, problem: state.problem }, 'upstream not answering OPTIONS: not ready');
}
