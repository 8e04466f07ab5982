import type { Registry } from 'prom-client';
import type { SnapshotIndex } from '../policy/snapshot-builder.js';
import type { GroupLicense } from '../policy/snapshot.js';
import { windowState, type WindowState } from '../policy/window.js';
import type { InstallCounts } from '../store/operations-queries.js';
import { registerCollected, type Sample } from './collected-metric.js';

export interface LicenseMetricSources {
  readonly snapshot: () => SnapshotIndex;
  readonly installs: () => InstallCounts;
  readonly clock: () => number;
  /** Per-project series (config admin.projectMetrics); false leaves the totals only. */
  readonly perProject: boolean;
}

/** Window states as label values (Prometheus label values in snake_case). */
const STATE_LABEL: Readonly<Record<WindowState, string>> = {
  unrestricted: 'unrestricted',
  active: 'active',
  'not-yet-valid': 'not_yet_valid',
  expired: 'expired',
};

/**
 * Series per restricted project at most: used and limit for numbers and apps (4), the window
 * state (1) and, when the window has an end, its end (1). Unrestricted projects have no limit
 * and add none; the label is the root group's name, never a number, user or install, so the
 * series count follows the number of projects and nothing a SIP peer sends.
 */
export const SERIES_PER_PROJECT = 6;

/**
 * Licences per root group from the in-memory snapshot (no database read), and app installs from
 * the store. The project series are built as plain samples (no label hashing), since at 10,000
 * projects they are 60,000 series.
 */
export function registerLicenseMetrics(registry: Registry, sources: LicenseMetricSources): void {
  const restricted = (): GroupLicense[] => {
    const index = sources.snapshot();
    const out: GroupLicense[] = [];
    for (const rootId of index.rootIds()) {
      const g = index.group(rootId);
      if (g !== undefined && g.restrictions) out.push(g);
    }
    return out;
  };
  registerCollected(registry, {
    name: 'sipwarden_projects',
    help: 'Projects (root groups) by the state of their licence window now: active, not_yet_valid, expired, or unrestricted (restrictions off).',
    type: 'gauge',
    samples: () => {
      const index = sources.snapshot();
      const now = sources.clock();
      const counts: Record<string, number> = { unrestricted: 0, active: 0, not_yet_valid: 0, expired: 0 };
      for (const rootId of index.rootIds()) {
        const g = index.group(rootId);
        const state = g === undefined ? 'unrestricted' : STATE_LABEL[windowState(g, now)];
        counts[state] = (counts[state] ?? 0) + 1;
      }
      return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
    },
  });
  registerCollected(registry, {
    name: 'sipwarden_app_installs',
    help: 'Mobile-app installs known to the store: state="licensed" holding a licence, "unlicensed" refused or released.',
    type: 'gauge',
    samples: () => {
      const c = sources.installs();
      return [
        { labels: { state: 'licensed' }, value: c.licensed },
        { labels: { state: 'unlicensed' }, value: c.unlicensed },
      ];
    },
  });
  if (!sources.perProject) return;
  registerCollected(registry, {
    name: 'sipwarden_license_used',
    help: 'Licences used by a restricted project: kind="numbers" virtual numbers, kind="apps" licensed app installs.',
    type: 'gauge',
    samples: () =>
      restricted().flatMap((g) => [
        { labels: { group: g.name, kind: 'numbers' }, value: g.numbersUsed ?? 0 },
        { labels: { group: g.name, kind: 'apps' }, value: g.appsUsed },
      ]),
  });
  registerCollected(registry, {
    name: 'sipwarden_license_limit',
    help: 'Licence limits of a restricted project: kind="numbers" virtualNumbers, kind="apps" mobileApps.',
    type: 'gauge',
    samples: () =>
      restricted().flatMap((g) => [
        { labels: { group: g.name, kind: 'numbers' }, value: g.virtualNumbers },
        { labels: { group: g.name, kind: 'apps' }, value: g.mobileApps },
      ]),
  });
  registerCollected(registry, {
    name: 'sipwarden_license_window',
    help: 'The licence window state of a restricted project now (value 1): active, not_yet_valid or expired.',
    type: 'gauge',
    samples: () => {
      const now = sources.clock();
      return restricted().map((g) => ({ labels: { group: g.name, state: STATE_LABEL[windowState(g, now)] }, value: 1 }));
    },
  });
  registerCollected(registry, {
    name: 'sipwarden_license_valid_until_timestamp_seconds',
    help: 'End of the licence window of a restricted project with a validity window that ends (Unix time, seconds).',
    type: 'gauge',
    samples: () =>
      restricted().flatMap((g): Sample[] => (g.validity && g.validUntil !== null ? [{ labels: { group: g.name }, value: g.validUntil / 1000 }] : [])),
  });
}
