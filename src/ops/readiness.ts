import type { UpstreamState } from '../sip/proxy/upstream-ping.js';

export type CheckName = 'database' | 'snapshot' | 'upstream';

export interface CheckResult {
  readonly name: CheckName;
  readonly ok: boolean;
  /** What was found, in words: why it fails, or what it measured. */
  readonly detail: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

export interface ReadinessSources {
  /** Null when the database can be read; else what failed. */
  readonly databaseProblem: () => string | null;
  /** How long ago the licence snapshot was last found current with the database, ms. */
  readonly snapshotAgeMs: () => number;
  readonly maxSnapshotAgeMs: number;
  /** The upstream ping's state; null when pinging is off (the upstream is then not a check). */
  readonly upstream: (() => UpstreamState) | null;
}

/**
 * Whether the sidecar can do its work (`/readyz`, and the answer to an OPTIONS addressed to it):
 * the database answers a read, the licence snapshot was checked against it within
 * `maxSnapshotAgeMs` (else decisions run on data that may be old), and the upstream SIP server
 * answered the last OPTIONS ping (else every forwarded request is lost). Store write trouble is
 * not a check: licensed devices keep working then, and taking the sidecar out of service would
 * stop them too (it is a metric and an alert instead).
 */
export class Readiness {
  constructor(private readonly sources: ReadinessSources) {}

  report(): ReadinessReport {
    const checks: CheckResult[] = [this.#database(), this.#snapshot()];
    if (this.sources.upstream !== null) checks.push(upstreamCheck(this.sources.upstream()));
    return { ready: checks.every((c) => c.ok), checks };
  }

  /** Null when ready; else the failing checks' details joined, for a SIP Warning or a log line. */
  notReady(): string | null {
    const report = this.report();
    if (report.ready) return null;
    return report.checks
      .filter((c) => !c.ok)
      .map((c) => c.detail)
      .join('; ');
  }

  #database(): CheckResult {
    const problem = this.sources.databaseProblem();
    return { name: 'database', ok: problem === null, detail: problem ?? 'readable' };
  }

  #snapshot(): CheckResult {
    const age = this.sources.snapshotAgeMs();
    const max = this.sources.maxSnapshotAgeMs;
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    return age <= max
      ? { name: 'snapshot', ok: true, detail: `checked ${seconds(age)} ago` }
      : { name: 'snapshot', ok: false, detail: `license snapshot not checked against the database for ${seconds(age)} (limit ${seconds(max)})` };
  }
}

function upstreamCheck(state: UpstreamState): CheckResult {
  if (state.up === null) return { name: 'upstream', ok: false, detail: 'upstream not pinged yet' };
  if (!state.up) return { name: 'upstream', ok: false, detail: state.problem ?? 'upstream not answering OPTIONS' };
  return { name: 'upstream', ok: true, detail: `answered OPTIONS ${state.lastStatus ?? '?'} in ${state.lastRttMs ?? '?'} ms` };
}
