import { Registry } from 'prom-client';
import type { EmbeddedProxy } from '../sip/proxy/embedded-proxy.js';
import { registerCollected } from './collected-metric.js';
import { DecisionCounts } from './decision-counts.js';
import { registerHealthMetrics, type HealthMetricSources } from './health-metrics.js';
import { registerLicenseMetrics, type LicenseMetricSources } from './license-metrics.js';
import { processMetrics } from './process-metrics.js';
import { registerSipMetrics } from './sip-metrics.js';

export interface SidecarMetricSources extends HealthMetricSources, LicenseMetricSources {
  readonly decisions: DecisionCounts;
  readonly proxy: () => EmbeddedProxy | null;
  readonly version: string;
  readonly mode: 'embedded' | 'drachtio';
}

export interface SidecarMetrics {
  /** The sidecar's own series and the process defaults, as /metrics serves them. */
  readonly registry: Registry;
  readonly contentType: string;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  /** How many series a scrape returns now (each sample line of the exposition). */
  seriesCount(): Promise<number>;
}

/** Every sipwarden_* metric of one sidecar, merged with the process defaults. */
export function createSidecarMetrics(sources: SidecarMetricSources): SidecarMetrics {
  const own = new Registry();
  registerCollected(own, {
    name: 'sipwarden_build_info',
    help: 'The running sipwarden: version and SIP mode (value 1).',
    type: 'gauge',
    samples: () => [{ labels: { version: sources.version, mode: sources.mode }, value: 1 }],
  });
  registerCollected(own, {
    name: 'sipwarden_decisions_total',
    help: 'REGISTER and initial INVITE decisions by method, transport, decision (allow, deny, unavailable, fault) and reason: a refusal by its reason-table label, an allow by its basis, domain_not_served, install_not_recorded (503), internal_error.',
    type: 'counter',
    samples: () => sources.decisions.samples(),
  });
  registerCollected(own, {
    name: 'sipwarden_decision_duration_seconds',
    help: 'Time to decide a REGISTER or initial INVITE, from the request read to the verdict (a new install includes its licence claim in the store).',
    type: 'histogram',
    samples: () => sources.decisions.durationSamples('sipwarden_decision_duration_seconds'),
  });
  registerSipMetrics(own, sources.proxy);
  registerLicenseMetrics(own, sources);
  registerHealthMetrics(own, sources);
  const registry = Registry.merge([processMetrics(), own]);
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    async seriesCount() {
      const all = await registry.getMetricsAsJSON();
      return all.reduce((n, m) => n + m.values.length, 0);
    },
  };
}
