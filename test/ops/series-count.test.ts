import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOW_BASIS_METRIC, DecisionCounts } from '../../src/ops/decision-counts.js';
import { BucketHistogram } from '../../src/ops/bucket-histogram.js';
import { RELOAD_SECONDS_BUCKETS } from '../../src/ops/health-metrics.js';
import { Readiness } from '../../src/ops/readiness.js';
import { SERIES_PER_PROJECT } from '../../src/ops/license-metrics.js';
import { createSidecarMetrics, type SidecarMetrics } from '../../src/ops/sidecar-metrics.js';
import type { AllowBasis, Decision } from '../../src/policy/decision.js';
import { REASON_CODES } from '../../src/policy/reason-code.js';
import { buildSnapshot, type SnapshotIndex } from '../../src/policy/snapshot-builder.js';
import { UpstreamPing } from '../../src/sip/proxy/upstream-ping.js';
import { parsePromText } from '../support/prom-text.js';
import { startHarness, type Harness } from '../sip/harness.js';

/*
 * Issue 11 item 2: the label cardinality of /metrics is bounded. Each restricted project adds
 * SERIES_PER_PROJECT series (used and limit of numbers and apps, window state, window end); the
 * rest is a fixed set whatever the traffic (every label value is from a closed list). Counted here
 * at 10,000 projects with every decision label set taken, on a real embedded proxy (listeners
 * on UDP, TCP and WebSocket), and printed for the README.
 */

const NOW = Date.UTC(2026, 0, 1);

function projects(n: number): SnapshotIndex {
  return buildSnapshot({
    licenses: Array.from({ length: n }, (_, i) => ({
      rootId: i + 1,
      name: `project-${i + 1}`,
      restrictions: true,
      virtualNumbers: 100,
      mobileApps: 50,
      validity: true,
      validFrom: NOW - 86_400_000,
      validUntil: NOW + 365 * 86_400_000,
      revision: 0,
    })),
    users: [],
    numbers: [],
    installs: [],
  });
}

/** Every label set sipwarden_decisions_total can take: each method, transport and outcome once (shadow refusals too). */
function saturated(): DecisionCounts {
  const counts = new DecisionCounts();
  const outcomes = [
    ...REASON_CODES.map((reason): Decision => ({ kind: 'deny', reason, details: {} })),
    ...(Object.keys(ALLOW_BASIS_METRIC) as AllowBasis[]).map((basis): Decision => ({ kind: 'allow', basis, claimInstall: false, details: {} })),
    'not-served' as const,
    'not-recorded' as const,
    'fault' as const,
  ];
  for (const method of ['REGISTER', 'INVITE']) {
    for (const transport of ['udp', 'tcp', 'ws', 'tls', 'wss', 'sctp']) {
      for (const outcome of outcomes) counts.decided(method, transport, outcome, performance.now());
      // Refusals shadow mode forwarded ("would refuse") are their own series.
      for (const reason of REASON_CODES) counts.decided(method, transport, { kind: 'deny', reason, details: {} }, performance.now(), true);
    }
  }
  return counts;
}

let harness: Harness | undefined;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
});

function metrics(snapshot: SnapshotIndex, decisions: DecisionCounts, perProject = true): SidecarMetrics {
  const upstream = new UpstreamPing({ target: { host: '127.0.0.1', port: 9, transport: 'udp' }, intervalMs: 1000, timeoutMs: 100 });
  return createSidecarMetrics({
    decisions,
    proxy: () => harness?.proxy ?? null,
    version: 'test',
    mode: 'embedded',
    snapshot: () => snapshot,
    snapshotAgeMs: () => 0,
    reloads: new BucketHistogram(RELOAD_SECONDS_BUCKETS),
    reloadErrors: () => 0,
    outbox: () => ({ byStatus: { pending: 0, delivered: 0, failed: 0, dead: 0 }, oldestPendingAt: null }),
    installs: () => ({ licensed: 0, unlicensed: 0 }),
    upstream,
    readiness: new Readiness({ databaseProblem: () => null, snapshotAgeMs: () => 0, maxSnapshotAgeMs: 10_000, upstream: () => upstream.state }),
    storeWritable: () => true,
    clock: () => NOW,
    perProject,
  });
}

/** Series of the exposition, as a scraper counts them: sample lines, split by metric family prefix. */
function seriesOf(text: string): { readonly sipwarden: number; readonly process: number } {
  const samples = parsePromText(text).samples;
  const sipwarden = samples.filter((s) => s.name.startsWith('sipwarden_')).length;
  return { sipwarden, process: samples.length - sipwarden };
}

describe('series count of /metrics (bounded label cardinality)', () => {
  it('grows by SERIES_PER_PROJECT per restricted project and nothing else; 10,000 projects counted', async () => {
    const decisions = saturated();
    const none = seriesOf(await metrics(projects(0), decisions).text());
    const many = seriesOf(await metrics(projects(10_000), decisions).text());
    expect(SERIES_PER_PROJECT).toBe(6);
    expect(many.sipwarden - none.sipwarden).toBe(10_000 * SERIES_PER_PROJECT);
    // The fixed part: every decision label set (2 methods x 6 transports x outcomes), the histograms,
    // proxy, connection, licence totals, health series. Documented in the README.
    expect(none.sipwarden).toBe(DecisionCounts.MAX_SERIES + FIXED_SIPWARDEN_SERIES);
    console.log(
      `series at 10,000 projects: ${many.sipwarden} sipwarden_* (${none.sipwarden} fixed + ${10_000 * SERIES_PER_PROJECT} per project) + ${many.process} process_*/nodejs_* = ${many.sipwarden + many.process}`,
    );
  });

  it('keeps only the totals with admin.projectMetrics false', async () => {
    const decisions = saturated();
    const none = seriesOf(await metrics(projects(0), decisions, false).text());
    const many = seriesOf(await metrics(projects(10_000), decisions, false).text());
    expect(many.sipwarden).toBe(none.sipwarden);
  });

  it('counts each label set once however much traffic: decisions_total has at most MAX_SERIES series', async () => {
    const decisions = saturated();
    for (let i = 0; i < 1000; i++) decisions.decided('REGISTER', 'udp', 'fault', performance.now());
    const scrape = parsePromText(await metrics(projects(0), decisions).text());
    expect(scrape.all('sipwarden_decisions_total').length).toBe(DecisionCounts.MAX_SERIES);
    // An unknown method is not a decision the gate makes, and adds no series.
    decisions.decided('OPTIONS', 'udp', 'fault', performance.now());
    expect(parsePromText(await metrics(projects(0), decisions).text()).all('sipwarden_decisions_total').length).toBe(DecisionCounts.MAX_SERIES);
  });
});

/**
 * sipwarden_* series besides the decision counters and the per-project ones, with an embedded
 * proxy listening on UDP, TCP and WS: the decision-duration histograms 2 x (14 buckets + Inf + sum +
 * count) = 34; build info 1; 13 proxy counters; too large 2; own OPTIONS 2; connections 2 streams x
 * (open 1, accepted 1, refused 2, closed 4, write queue 1) = 18; caches 3 x 2 = 6; projects by
 * state 4; app installs 2; snapshot age 1, reload histogram 10 + 3 = 13, reload errors 1, snapshot
 * entries 4; outbox 4 + oldest 1; upstream up 1, pings 4 (the rtt only once one answered); store
 * writable 1; ready 3.
 */
const FIXED_SIPWARDEN_SERIES = 34 + 1 + 13 + 2 + 2 + 18 + 6 + 4 + 2 + 1 + 13 + 1 + 4 + 5 + 1 + 4 + 1 + 3;
