/**
 * One load step of the SIP benchmark: one SIPp client run at a fixed rate through one path,
 * bounded in calls (-m) and time (-timeout), with the CPU of the processes under test, of SIPp and
 * of the whole machine read before and after. Several steps can run at once (a background load
 * beside a burst): they then share one CPU reading.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readTraceBySuffix } from '../test/support/sipp-stats.js';
import { runSipp } from '../test/support/sipp.js';
import { loadAverage1, machineBusyCpu, mainThreadSched, reapedChildrenCpu, sampleGroup, udpDrops, type GroupSample, type SchedTimes } from './bench-sip-proc.js';
import { completedPerSecond, judgeClean, quantile, type StepMeasure, type Verdict } from './bench-sip-verdict.js';

/** What a step is for: a short probe, the long step that confirms a clean maximum, a rate past it, or a one-off load. */
export type StepPhase = 'probe' | 'confirm' | 'overload' | 'burst' | 'background' | 'warm-up' | 'baseline' | 'locked';

export interface StepSpec {
  /** The path's name in the tables (sidecar, reference, direct, ...). */
  readonly path: string;
  /** The kind of load (register, invite, mixed, renewal, ...). */
  readonly load: string;
  readonly phase: StepPhase;
  /** host:port SIPp sends to. */
  readonly target: string;
  readonly rate: number;
  readonly calls: number;
  /** Absolute path of the SIPp scenario. */
  readonly scenario: `${string}.xml`;
  readonly injection: string;
  /** The process group of the path under test (none on the direct path). */
  readonly proxyPid: number | null;
  /** A second process group of the path, read apart (RunningPath.companion). */
  readonly companion?: { readonly name: string; readonly pid: number };
  readonly registrarPid: number;
  readonly registrarPort: number;
  /** 403s the policy gives for exactly these calls on this path (0 where nothing enforces licences). */
  readonly expectedRefused: number;
  readonly sippBufferBytes: number;
  /** Extra SIPp -timeout beyond the offered duration (default 15 s: retransmissions of a collapsing path time out). */
  readonly graceSec?: number;
  /** Keep every response time and SIPp's `<log>` lines in the outcome (`detail`): for small or few steps only. */
  readonly keepDetail?: boolean;
}

/** One response time: `at` ms after SIPp started, `ms` from the first request to the final answer. */
export interface RttRow {
  readonly at: number;
  readonly ms: number;
}

/** What SIPp measured of one run. */
export interface LoadOutcome {
  readonly spec: StepSpec;
  readonly measure: StepMeasure;
  readonly verdict: Verdict;
  readonly p50Ms: number;
  readonly retransShare: number;
  /** 401 challenges received (digest REGISTERs: one per registration, part of a clean run). */
  readonly challenged: number;
  readonly wallS: number;
  /** The step's span in CLOCK_MONOTONIC µs, to pick its samples out of a CPU profile. */
  readonly window: readonly [number, number];
  /** SIPp's own notes: fatal exit words, first error line. */
  readonly sippNotes: readonly string[];
  /** With `keepDetail`: every response time, and the text of SIPp's `<log>` actions; else null. */
  readonly detail: { readonly answers: readonly RttRow[]; readonly logged: string } | null;
}

/** CPU, as shares of one core over the step's wall time, socket drops, and the machine around it. */
export interface CpuAround {
  /** Datagrams the kernel dropped at the path's socket (null on the direct path) and at the registrar's during the step. */
  readonly proxyDrops: number | null;
  readonly registrarDrops: number | null;
  readonly proxyCpu: number | null;
  /**
   * The path's main thread (the sidecar's event loop) as shares of the step: on a CPU, and
   * runnable but waiting for one; null where /proc has no schedstat.
   */
  readonly proxyLoop: SchedTimes | null;
  readonly proxy: GroupSample | null;
  /** The path's companion (StepSpec.companion), null without one. */
  readonly companionCpu: number | null;
  readonly registrarCpu: number;
  /** The SIPp clients that ran in the step. */
  readonly sippCpu: number;
  /** The whole machine minus the three above: other processes (the sidecar idle on other paths, other users). */
  readonly otherCpu: number;
  /** 1-minute load average at the end. */
  readonly load1: number;
}

export interface StepResult extends LoadOutcome, CpuAround {
  /** Proxy CPU µs per completed call; null on the direct path. */
  readonly proxyUsPerCall: number | null;
  readonly companionUsPerCall: number | null;
  /** Set when several steps ran at once and share the CPU figures. */
  readonly sharedCpu: boolean;
}

function readRtt(dir: string): RttRow[] {
  const text = readTraceBySuffix(dir, '_rtt.csv') ?? '';
  const rows: RttRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [at, ms, rtd] = line.split(';');
    if (rtd?.trim() === '1') rows.push({ at: Number(at), ms: Number(ms) });
  }
  return rows;
}

/** The last line SIPp wrote on stderr: why a fatal exit happened. */
function lastWords(path: string): string {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(Resolving remote host|There were more errors)/.test(l));
  return lines.at(-1)?.replace(/^[\d\s:.-]+:\s/, '').slice(0, 160) ?? 'no message';
}

const countOf = (counts: Readonly<Record<string, number>>, status: number): number =>
  Object.entries(counts)
    .filter(([k]) => k.endsWith(`_${status}_Recv`))
    .reduce((sum, [, v]) => sum + v, 0);

/** Runs SIPp for one step and reads what it measured (no CPU readings). */
export async function runLoad(spec: StepSpec): Promise<LoadOutcome> {
  const durationS = spec.calls / spec.rate;
  const extraArgs = [
    '-buff_size', String(spec.sippBufferBytes),
    // Response times are written every rtt_freq calls and never flushed at exit: keep the loss small.
    '-trace_rtt', '-rtt_freq', String(Math.max(1, Math.min(100, Math.floor(spec.calls / 50)))),
    // SIPp's advice for high traffic: read and schedule more per event-loop turn.
    '-max_recv_loops', '10000', '-max_sched_loops', '10000',
  ];
  const t0 = performance.now();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runSipp({
    scenario: spec.scenario,
    target: spec.target,
    transport: 'u1',
    calls: spec.calls,
    rate: spec.rate,
    timeoutSec: Math.ceil(durationS) + (spec.graceSec ?? 15),
    injection: spec.injection,
    extraArgs,
  });
  const wallS = (performance.now() - t0) / 1000;
  const endUs = Number(process.hrtime.bigint() / 1000n);
  const s = result.stats;
  const rtt = readRtt(result.files.dir);
  const times = rtt.map((r) => r.ms).sort((a, b) => a - b);
  const measure: StepMeasure = {
    statsWritten: s !== undefined,
    exitCode: result.exitCode,
    killedAfterTimeout: result.killedAfterTimeout,
    rate: spec.rate,
    successful: s?.successful ?? 0,
    failed: s ? s.failed : spec.calls,
    retransmissions: s?.retransmissions ?? 0,
    refused: countOf(result.counts, 403),
    shed: countOf(result.counts, 503),
    completedPerS: completedPerSecond(rtt.map((r) => r.at), durationS),
    p99Ms: quantile(times, 0.99),
    proxyAlive: spec.proxyPid === null || sampleGroup(spec.proxyPid).processes > 0,
  };
  const sippNotes: string[] = [];
  if (result.exitCode !== null && result.exitCode > 1) sippNotes.push(`SIPp: ${lastWords(result.files.stderr)}`);
  if (s && s.failed > 0) {
    sippNotes.push(`failed: recv-timeout ${s.failedTimeoutOnRecv}, max-retrans ${s.failedMaxUdpRetrans}, unexpected ${s.failedUnexpectedMessage}`);
    const firstError = /^.*(unexpected|timeout|aborted|error).*$/im.exec(result.errors)?.[0];
    if (firstError) sippNotes.push(`first SIPp error: ${firstError.trim().slice(0, 140)}`);
  }
  return {
    spec,
    measure,
    verdict: judgeClean(measure, spec.expectedRefused),
    p50Ms: quantile(times, 0.5),
    retransShare: measure.retransmissions / Math.max(1, measure.successful + measure.failed),
    challenged: countOf(result.counts, 401),
    wallS,
    window: [startUs, endUs],
    sippNotes,
    detail: spec.keepDetail ? { answers: rtt, logged: existsSync(result.files.actions) ? readFileSync(result.files.actions, 'utf8') : '' } : null,
  };
}

const portOf = (target: string): number => Number(target.slice(target.lastIndexOf(':') + 1));
const dropsSince = (before: number | null, port: number): number | null => {
  const after = udpDrops(port);
  return before === null || after === null ? null : after - before;
};

/** Reads the CPU of the path's process, the registrar, the SIPp clients and the machine, and the sockets' drops, around `work`. */
export async function withCpu<T>(spec: StepSpec, work: () => Promise<T>): Promise<{ value: T; cpu: CpuAround; wallS: number }> {
  const { proxyPid, registrarPid } = spec;
  const proxyPort = proxyPid === null ? null : portOf(spec.target);
  const proxyDropsBefore = proxyPort === null ? null : udpDrops(proxyPort);
  const registrarDropsBefore = udpDrops(spec.registrarPort);
  const proxyBefore = proxyPid === null ? null : sampleGroup(proxyPid);
  const loopBefore = proxyPid === null ? null : mainThreadSched(proxyPid);
  const companionBefore = spec.companion === undefined ? null : sampleGroup(spec.companion.pid).cpu;
  const registrarBefore = sampleGroup(registrarPid);
  const sippBefore = reapedChildrenCpu();
  const machineBefore = machineBusyCpu();
  const t0 = performance.now();
  const value = await work();
  const wallS = (performance.now() - t0) / 1000;
  const proxyAfter = proxyPid === null ? null : sampleGroup(proxyPid);
  const loopAfter = proxyPid === null ? null : mainThreadSched(proxyPid);
  const companion = companionBefore === null || spec.companion === undefined ? null : sampleGroup(spec.companion.pid).cpu - companionBefore;
  const registrarAfter = sampleGroup(registrarPid);
  const sipp = reapedChildrenCpu() - sippBefore;
  const machine = machineBusyCpu() - machineBefore;
  const proxy = proxyBefore && proxyAfter ? proxyAfter.cpu - proxyBefore.cpu : 0;
  const registrar = registrarAfter.cpu - registrarBefore.cpu;
  return {
    value,
    wallS,
    cpu: {
      proxyDrops: proxyPort === null ? null : dropsSince(proxyDropsBefore, proxyPort),
      registrarDrops: dropsSince(registrarDropsBefore, spec.registrarPort),
      proxyCpu: proxyAfter === null ? null : proxy / wallS,
      proxyLoop: loopBefore && loopAfter ? { ran: (loopAfter.ran - loopBefore.ran) / wallS, waited: (loopAfter.waited - loopBefore.waited) / wallS } : null,
      proxy: proxyAfter,
      registrarCpu: registrar / wallS,
      sippCpu: sipp / wallS,
      companionCpu: companion === null ? null : companion / wallS,
      otherCpu: Math.max(0, machine - proxy - (companion ?? 0) - registrar - sipp) / wallS,
      load1: loadAverage1(),
    },
  };
}

/** A load outcome with the CPU read around it: µs per completed call of the path (and its companion). */
export function withUsPerCall(o: LoadOutcome, cpu: CpuAround, wallS: number, sharedCpu: boolean): StepResult {
  const completed = Math.max(1, o.measure.successful - o.measure.shed);
  const usPerCall = (share: number | null): number | null => (share === null ? null : (share * wallS * 1e6) / completed);
  return { ...o, ...cpu, sharedCpu, proxyUsPerCall: usPerCall(cpu.proxyCpu), companionUsPerCall: usPerCall(cpu.companionCpu) };
}

export async function runStep(spec: StepSpec): Promise<StepResult> {
  const { value, cpu, wallS } = await withCpu(spec, () => runLoad(spec));
  return withUsPerCall(value, cpu, wallS, false);
}

/** Steps at the same time through the same path (e.g. a burst beside a background load); CPU figures cover them all. */
export async function runConcurrentSteps(specs: readonly StepSpec[]): Promise<StepResult[]> {
  const first = specs[0];
  if (first === undefined) return [];
  const { value, cpu, wallS } = await withCpu(first, () => Promise.all(specs.map((s) => runLoad(s))));
  return value.map((o) => withUsPerCall(o, cpu, wallS, true));
}
