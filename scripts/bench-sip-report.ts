/** Text output of the SIP benchmark: one row per step, then the summary against the targets. */
import type { MicroSplit } from './bench-sip-micro.js';
import type { LoadKind, PathName, StepResult } from './bench-sip-step.js';

const COLUMNS: readonly (readonly [string, number])[] = [
  ['path', 9], ['load', 8], ['rate/s', 7], ['calls', 7], ['failed', 6], ['retr', 6], ['retr%', 7], ['403', 5],
  ['achieved/s', 10], ['p50ms', 5], ['p99ms', 5], ['proxyCPU%', 9], ['µs/call', 7], ['RSS MB', 7],
  ['regCPU%', 7], ['sippCPU%', 8], ['clean', 5],
];

const fmt = (n: number | null, digits = 0): string => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

export function header(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(' ');
}

export function row(r: StepResult): string {
  const memory = r.proxy === null ? null : r.spec.path === 'sidecar' ? r.proxy.leaderRssMb : r.proxy.pssMb;
  const cells = [
    r.spec.path, r.spec.kind, String(r.spec.rate), String(r.successful + r.failed), String(r.failed), String(r.retransmissions),
    fmt(r.retransShare * 100, 3), String(r.refused), fmt(r.achieved), fmt(r.p50Ms), fmt(r.p99Ms),
    fmt(r.proxyCpu === null ? null : r.proxyCpu * 100), fmt(r.proxyUsPerCall), fmt(memory),
    fmt(r.registrarCpu * 100), fmt(r.sippCpu * 100), r.clean ? 'yes' : 'NO',
  ];
  const line = cells.map((c, i) => c.padStart(COLUMNS[i]?.[1] ?? 0)).join(' ');
  return r.notes.length ? `${line}   (${r.notes.join('; ')})` : line;
}

export const LEGEND = [
  'rate/s: offered by SIPp (-r); calls: attempted; retr: SIPp retransmissions (retr% per call); 403: licence refusals received;',
  'achieved/s: responses measured per second between the first and last response (-trace_rtt); p50/p99: REGISTER→final or',
  'INVITE→200 response time (SIPp clock, 1 ms steps); proxyCPU%: CPU of the proxy process group over the step wall time',
  '(100 = one core); µs/call: proxy CPU per completed call (REGISTER = 2 messages through the proxy, 403 = 1; INVITE call =',
  'INVITE, 100, 200, ACK, BYE, 200 = 6); RSS MB: sidecar VmRSS, Kamailio sum of PSS over its processes; regCPU%: the',
  'registrar; sippCPU%: the SIPp client. clean = 0 failed, retr% < 0.1, SIPp exit 0, achieved ≥ 95% of the offered rate.',
];

/** The highest offered rate at which a path was clean (its ladder stops at the first unclean step). */
export function highestClean(results: readonly StepResult[], path: PathName, kind: LoadKind): number {
  let best = 0;
  for (const r of results) if (r.spec.path === path && r.spec.kind === kind && r.clean) best = Math.max(best, r.spec.rate);
  return best;
}

export interface Targets {
  readonly rate: number;
  readonly ratioToReference: number;
}

export const TARGETS: Readonly<Record<LoadKind, Targets>> = {
  register: { rate: 12_000, ratioToReference: 0.8 },
  invite: { rate: 2_000, ratioToReference: 0.9 },
};

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(2) : '-';
}

export function summary(results: readonly StepResult[], kinds: readonly LoadKind[], paths: readonly PathName[], topRates: Record<LoadKind, number>): string[] {
  const lines: string[] = [];
  for (const kind of kinds) {
    const clean = Object.fromEntries(paths.map((p) => [p, highestClean(results, p, kind)])) as Record<PathName, number>;
    const capped = (p: PathName): string => (clean[p] !== undefined && clean[p] >= topRates[kind] ? ' (top of the ladder: at least)' : '');
    const unit = kind === 'register' ? 'REGISTER/s' : 'calls/s';
    lines.push(`${kind.toUpperCase()} highest clean rate:`);
    for (const p of paths) lines.push(`  ${p.padEnd(10)} ${String(clean[p] ?? 0).padStart(6)} ${unit}${capped(p)}`);
    const t = TARGETS[kind];
    if (clean.sidecar !== undefined) {
      const s = clean.sidecar;
      lines.push(`  sidecar ≥ ${t.rate} ${unit}: ${s >= t.rate ? 'MET' : 'MISSED'} (${s})`);
      if (clean.reference !== undefined) {
        const r = s / Math.max(1, clean.reference);
        lines.push(`  sidecar / reference = ${ratio(s, clean.reference)}  target ≥ ${t.ratioToReference}: ${clean.reference > 0 && r >= t.ratioToReference ? 'MET' : 'MISSED'}`);
      }
      if (clean.direct !== undefined) lines.push(`  sidecar / direct    = ${ratio(s, clean.direct)}`);
    }
  }
  return lines;
}

export function microLines(m: MicroSplit, sidecarUsPerRegister: number | null): string[] {
  const us = (n: number): string => `${n.toFixed(2)} µs`;
  const lines = [
    'In-process split, CPU µs per message (one core, no sockets, best of 5 × 40,000 after a warm-up, same DB and numbers):',
    `  REGISTER  parse ${us(m.registerParse)} | policy (evaluateRegister) ${us(m.registerPolicy)} | facts+policy+log check ${us(m.registerEnforce)} | route+edit+serialise ${us(m.registerForward)} | whole request with the gate ${us(m.registerTotal)}`,
    `  200 OK    relay (parse + Via removal) ${us(m.okRelay)}`,
    `  INVITE    parse ${us(m.inviteParse)} | policy (evaluateInvite) ${us(m.invitePolicy)} | whole request with the gate ${us(m.inviteTotal)}`,
    `  policy share of the in-process REGISTER transaction (request + 200): ${((m.registerPolicy / (m.registerTotal + m.okRelay)) * 100).toFixed(1)} %; enforcement (facts+policy+log check): ${((m.registerEnforce / (m.registerTotal + m.okRelay)) * 100).toFixed(1)} %`,
  ];
  if (sidecarUsPerRegister !== null) {
    lines.push(
      `  measured sidecar CPU per REGISTER transaction under load (highest clean step): ${us(sidecarUsPerRegister)} → policy ${((m.registerPolicy / sidecarUsPerRegister) * 100).toFixed(1)} %, ` +
        `enforcement ${((m.registerEnforce / sidecarUsPerRegister) * 100).toFixed(1)} %, in-process core work ${(((m.registerTotal + m.okRelay) / sidecarUsPerRegister) * 100).toFixed(0)} % ` +
        '(the rest: socket syscalls, event loop, GC, logging I/O)',
    );
  }
  return lines;
}
