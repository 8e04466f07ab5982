/** Text output of the SIP benchmark: one row per step as it runs, then the summary tables. */
import type { MicroSplit } from './bench-sip-micro.js';
import type { LadderLoad } from './bench-sip-plan.js';
import type { StepResult } from './bench-sip-step.js';
import { CLEAN_RULES, OVERLOAD_RULES, judgeOverload } from './bench-sip-verdict.js';

const COLUMNS: readonly (readonly [string, number])[] = [
  ['path', 12], ['load', 8], ['phase', 9], ['rate/s', 6], ['calls', 7], ['failed', 6], ['retr%', 7], ['403', 6], ['exp403', 6], ['503', 6],
  ['done/s', 6], ['p50ms', 5], ['p99ms', 5], ['pDrop', 6], ['rDrop', 6], ['proxyCPU%', 9], ['µs/call', 7], ['memMB', 5], ['regCPU%', 7], ['sippCPU%', 8],
  ['otherCPU%', 9], ['load1', 5], ['verdict', 7],
];

/** Run-queue wait of the path's main thread, as a share of the step, from which a step that is not clean says so. */
const LOOP_WAIT_NOTE = 0.1;
const fmt = (n: number | null, digits = 0): string => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

export function header(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(' ');
}

/** The verdict cell: clean/NO for ladder steps, PASS/FAIL for overload steps (against `cleanMax`). */
export function row(r: StepResult, cleanMax?: number): string {
  const m = r.measure;
  const memory = r.proxy === null ? null : r.proxy.processes === 1 ? r.proxy.leaderRssMb : r.proxy.pssMb;
  const overload = r.spec.phase === 'overload' && cleanMax !== undefined ? judgeOverload(m, cleanMax) : null;
  const verdict = overload ? (overload.clean ? 'PASS' : 'FAIL') : r.verdict.clean ? 'clean' : 'NO';
  const cells = [
    r.spec.path, r.spec.load, r.spec.phase, String(r.spec.rate), String(m.successful + m.failed), String(m.failed), fmt(r.retransShare * 100, 3),
    String(m.refused), r.spec.phase === 'overload' ? '-' : String(r.spec.expectedRefused), String(m.shed), fmt(m.completedPerS), fmt(r.p50Ms), fmt(m.p99Ms), fmt(r.proxyDrops), fmt(r.registrarDrops),
    fmt(r.proxyCpu === null ? null : r.proxyCpu * 100), fmt(r.proxyUsPerCall), fmt(memory), fmt(r.registrarCpu * 100), fmt(r.sippCpu * 100),
    fmt(r.otherCpu * 100), fmt(r.load1, 1), verdict,
  ];
  const line = cells.map((c, i) => c.padStart(COLUMNS[i]?.[1] ?? 0)).join(' ');
  const notes = [...(overload ? overload.notes : r.spec.phase === 'overload' ? [] : r.verdict.notes), ...r.sippNotes];
  if (r.sharedCpu) notes.push('CPU columns cover the steps run at the same time');
  // A loop short of CPU: its queue grows (and it sheds) whatever its own CPU share.
  if (!r.verdict.clean && r.proxyLoop !== null && r.proxyLoop.waited >= LOOP_WAIT_NOTE) {
    notes.push(`main thread on a CPU ${fmt(r.proxyLoop.ran * 100)} %, waiting for one ${fmt(r.proxyLoop.waited * 100)} % of the step`);
  }
  if (r.companionCpu !== null) notes.push(`with ${r.spec.companion?.name ?? 'companion'} CPU ${fmt(r.companionCpu * 100)} %, ${fmt(r.companionUsPerCall)} µs/call`);
  return notes.length ? `${line}   (${notes.join('; ')})` : line;
}

export const LEGEND = [
  'rate/s: offered by SIPp (-r); calls: attempted; retr%: SIPp retransmissions per call; 403 / exp403: licence refusals received /',
  'expected from the data (0 where nothing enforces licences); 503: shed by the proxy; done/s: final answers other than 503 per second',
  'of the offered window (answers after it do not count); p50/p99: first request → 200/403, ms (SIPp clock, 1 ms steps; a digest',
  'registration\'s two round trips count as one); pDrop/rDrop: datagrams the kernel dropped at the path\'s / the registrar\'s full socket;',
  'proxyCPU%: CPU of the path\'s process group over the step (100 = one core); µs/call:',
  'that CPU per completed call; memMB: the sidecar\'s RSS, Kamailio\'s PSS summed over its processes; regCPU%: the registrar; sippCPU%:',
  'the SIPp client(s); otherCPU%: the rest of the machine (idle paths, other users: noise); load1: 1-minute load average after the step.',
  '(main thread on a CPU …, waiting for one …): the path\'s main thread (the sidecar\'s event loop) on a CPU and runnable but on the run',
  `queue, shares of the step (/proc schedstat), noted on steps that are not clean when it waited ≥ ${LOOP_WAIT_NOTE * 100} %: a loop short of CPU, not a blocked one.`,
  '(with drachtio-server CPU …): on a drachtio path proxyCPU% and µs/call are the application\'s; its drachtio-server is read apart.',
  `clean: SIPp exit 0, 0 failed, retr < ${CLEAN_RULES.maxRetransShare * 100} %, done/s ≥ ${CLEAN_RULES.minRateKept * 100} % of rate/s, 403 = exp403, 0 × 503, ` +
    `p99 ≤ ${CLEAN_RULES.maxP99Ms} ms. A clean maximum is confirmed by a long step (phase confirm); probes are short.`,
  `overload PASS: done/s ≥ ${OVERLOAD_RULES.minCompletedShare} × the path's own confirmed clean maximum and p99 < ${OVERLOAD_RULES.maxP99Ms} ms of what it answered (not 503).`,
];

/** One path's outcome of a ladder: the confirmed clean maximum, and whether the ladder's top was still clean. */
export interface CleanMax {
  readonly path: string;
  readonly rate: number;
  /** The confirming long step, when there was one. */
  readonly confirmedBy: StepResult | null;
  /** The ladder's highest rate was clean: the real maximum may be higher. */
  readonly atTop: boolean;
}

export interface Targets {
  readonly rate: number;
  readonly ratioToReference: number;
}

export const TARGETS: Readonly<Partial<Record<LadderLoad, Targets>>> = {
  register: { rate: 12_000, ratioToReference: 0.8 },
  invite: { rate: 2_000, ratioToReference: 0.9 },
};

const UNITS: Readonly<Record<LadderLoad, string>> = { register: 'REGISTER/s', invite: 'calls/s', mixed: 'REGISTER/s' };
const TITLES: Readonly<Record<LadderLoad, string>> = {
  register: 'REGISTER, plain devices',
  invite: 'INVITE/ACK/BYE, 0 ms calls',
  mixed: 'REGISTER, mixed: plain + digest + app (known and new installs)',
};

function ratio(a: number, b: number | undefined): string {
  return b !== undefined && b > 0 && a > 0 ? (a / b).toFixed(2) : '-';
}

/** The clean-maximum table of one ladder, with ratios against the reference and direct paths. */
export function ladderSummary(load: LadderLoad, maxima: readonly CleanMax[]): string[] {
  const unit = UNITS[load];
  const by = new Map(maxima.map((m) => [m.path, m]));
  const reference = by.get('reference')?.rate;
  const direct = by.get('direct')?.rate;
  const lines = [`${TITLES[load]} — clean maximum, confirmed by a long step:`];
  lines.push(`  ${'path'.padEnd(12)} ${'clean max'.padStart(16)} ${'step'.padStart(5)} ${'p99'.padStart(7)} ${'CPU/call'.padStart(9)} ${'/reference'.padStart(10)} ${'/direct'.padStart(8)}`);
  for (const m of maxima) {
    const c = m.confirmedBy;
    lines.push(
      `  ${m.path.padEnd(12)} ${`${m.atTop ? '≥ ' : ''}${thousands(m.rate)} ${unit}`.padStart(16)} ${(c ? `${c.spec.calls / c.spec.rate} s` : '-').padStart(5)} ` +
        `${(c ? `${fmt(c.measure.p99Ms)} ms` : '-').padStart(7)} ${(c?.proxyUsPerCall ? `${fmt(c.proxyUsPerCall)} µs` : '-').padStart(9)} ` +
        `${ratio(m.rate, reference).padStart(10)} ${ratio(m.rate, direct).padStart(8)}`,
    );
  }
  const target = TARGETS[load];
  const sidecar = by.get('sidecar');
  if (target && sidecar) {
    lines.push(`  target: sidecar ≥ ${thousands(target.rate)} ${unit}: ${sidecar.rate >= target.rate ? 'MET' : 'MISSED'}` +
      (reference !== undefined ? `; sidecar / reference ≥ ${target.ratioToReference}: ${reference > 0 && sidecar.rate / reference >= target.ratioToReference ? 'MET' : 'MISSED'}` : ''));
  }
  if (maxima.some((m) => m.atTop)) lines.push('  ≥: the ladder\'s top rate was still clean; raise the rates to find the maximum.');
  return lines;
}

/** The overload table: each proxy at multiples of its own clean maximum. */
export function overloadSummary(steps: readonly StepResult[], maxima: readonly CleanMax[]): string[] {
  const lines = [
    `REGISTER overload — each proxy at multiples of its own clean maximum; PASS = completes ≥ ${OVERLOAD_RULES.minCompletedShare} × that maximum with p99 < ${OVERLOAD_RULES.maxP99Ms} ms of what it answered:`,
  ];
  for (const m of maxima) {
    const mine = steps.filter((s) => s.spec.path === m.path && s.spec.phase === 'overload');
    if (mine.length === 0) continue;
    for (const s of mine) {
      const v = judgeOverload(s.measure, m.rate);
      lines.push(
        `  ${m.path.padEnd(12)} ×${(s.spec.rate / m.rate).toFixed(2)} ${thousands(s.spec.rate).padStart(7)}/s offered → ${thousands(s.measure.completedPerS).padStart(7)}/s completed ` +
          `(${v.completedShare.toFixed(2)} of ${thousands(m.rate)}), p99 ${fmt(s.measure.p99Ms)} ms, ${thousands(s.measure.shed)} shed (503), ${thousands(s.measure.failed)} failed, ` +
          `retr ${fmt(s.retransShare * 100, 0)} %: ${v.clean ? 'PASS' : 'FAIL'}`,
      );
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
      `  measured sidecar CPU per REGISTER transaction under load (confirmed clean step): ${us(sidecarUsPerRegister)} → policy ${((m.registerPolicy / sidecarUsPerRegister) * 100).toFixed(1)} %, ` +
        `enforcement ${((m.registerEnforce / sidecarUsPerRegister) * 100).toFixed(1)} %, in-process core work ${(((m.registerTotal + m.okRelay) / sidecarUsPerRegister) * 100).toFixed(0)} % ` +
        '(the rest: socket syscalls, event loop, GC, logging I/O)',
    );
  }
  return lines;
}
