/**
 * One load step of the SIP benchmark: one SIPp client run at a fixed rate through one path,
 * bounded in calls (-m) and time (-timeout), with the CPU and memory of the processes under test
 * read before and after.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readTraceBySuffix } from '../test/support/sipp-stats.js';
import { runSipp } from '../test/support/sipp.js';
import { reapedChildrenCpu, sampleGroup, type GroupSample } from './bench-sip-proc.js';

export type PathName = 'sidecar' | 'reference' | 'direct';
export type LoadKind = 'register' | 'invite';

/** A clean step: no failed call, under 0.1 % retransmitted, and SIPp kept the offered rate. */
export const MAX_RETRANS_SHARE = 0.001;
export const MIN_RATE_KEPT = 0.95;

export interface StepSpec {
  readonly path: PathName;
  readonly kind: LoadKind;
  /** host:port SIPp sends to. */
  readonly target: string;
  readonly rate: number;
  readonly calls: number;
  /** Absolute path of the SIPp scenario. */
  readonly scenario: `${string}.xml`;
  readonly injection: string;
  /** The proxy's process group (none on the direct path). */
  readonly proxyPid: number | null;
  readonly registrarPid: number;
  /** REGISTERs the sidecar should refuse in this run (0 on the other paths). */
  readonly expectedRefused: number;
  readonly sippBufferBytes: number;
}

export interface StepResult {
  readonly spec: StepSpec;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  /** Retransmissions per call attempted (successful + failed). */
  readonly retransShare: number;
  /** 403 responses received (licence refusals). */
  readonly refused: number;
  /** Completed calls per second between the first and the last measured response. */
  readonly achieved: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly wallS: number;
  /** The step's span in CLOCK_MONOTONIC µs, to pick its samples out of a CPU profile. */
  readonly window: readonly [number, number];
  /** Proxy CPU as a share of one core over the step's wall time; null on the direct path. */
  readonly proxyCpu: number | null;
  readonly proxyUsPerCall: number | null;
  readonly proxy: GroupSample | null;
  readonly registrarCpu: number;
  readonly sippCpu: number;
  readonly exitCode: number | null;
  readonly clean: boolean;
  readonly notes: readonly string[];
}

interface RttRow {
  readonly at: number;
  readonly ms: number;
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

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export async function runStep(spec: StepSpec): Promise<StepResult> {
  const durationS = spec.calls / spec.rate;
  // Response times are written every rtt_freq calls and never flushed at exit: keep the loss small.
  const rttFreq = Math.max(1, Math.min(500, Math.floor(spec.calls / 20)));
  const extraArgs = [
    '-buff_size', String(spec.sippBufferBytes),
    '-trace_rtt', '-rtt_freq', String(rttFreq),
    // SIPp's advice for high traffic: read and schedule more per event-loop turn.
    '-max_recv_loops', '10000', '-max_sched_loops', '10000',
  ];
  const proxyBefore = spec.proxyPid === null ? null : sampleGroup(spec.proxyPid);
  const registrarBefore = sampleGroup(spec.registrarPid);
  const sippBefore = reapedChildrenCpu();
  const t0 = performance.now();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runSipp({
    scenario: spec.scenario,
    target: spec.target,
    transport: 'u1',
    calls: spec.calls,
    rate: spec.rate,
    // Room for the retransmissions of a collapsing path to time out (T1 doubling), still bounded.
    timeoutSec: Math.ceil(durationS) + (spec.kind === 'invite' ? 20 : 15),
    injection: spec.injection,
    extraArgs,
  });
  const wallS = (performance.now() - t0) / 1000;
  const endUs = Number(process.hrtime.bigint() / 1000n);
  const proxyAfter = spec.proxyPid === null ? null : sampleGroup(spec.proxyPid);
  const registrarAfter = sampleGroup(spec.registrarPid);
  const sippCpu = (reapedChildrenCpu() - sippBefore) / wallS;

  const notes: string[] = [];
  const s = result.stats;
  const successful = s?.successful ?? 0;
  const failed = s ? s.failed : spec.calls;
  const attempted = Math.max(1, successful + failed);
  const retransmissions = s?.retransmissions ?? 0;
  const refused = Object.entries(result.counts)
    .filter(([k]) => k.endsWith('_403_Recv'))
    .reduce((sum, [, v]) => sum + v, 0);
  const rtt = readRtt(result.files.dir);
  const times = rtt.map((r) => r.ms).sort((a, b) => a - b);
  const first = rtt[0];
  const last = rtt.at(-1);
  const span = first !== undefined && last !== undefined ? (last.at - first.at) / 1000 : 0;
  const achieved = span > 0.2 ? (rtt.length - 1) / span : successful / wallS;
  const proxyCpuS = proxyBefore && proxyAfter ? proxyAfter.cpu - proxyBefore.cpu : null;

  if (!s) notes.push('SIPp wrote no statistics');
  if (result.killedAfterTimeout) notes.push('SIPp killed after its timeout');
  if (result.exitCode !== 0 && result.exitCode !== 1) notes.push(`SIPp exit ${result.exitCode ?? result.signal}: ${lastWords(result.files.stderr)}`);
  if (s && s.failed > 0) {
    notes.push(`failed: recv-timeout ${s.failedTimeoutOnRecv}, max-retrans ${s.failedMaxUdpRetrans}, unexpected ${s.failedUnexpectedMessage}`);
    const firstError = /^.*(unexpected|timeout|aborted|error).*$/im.exec(result.errors)?.[0];
    if (firstError) notes.push(`first SIPp error: ${firstError.trim().slice(0, 140)}`);
  }
  if (refused !== spec.expectedRefused && failed === 0) notes.push(`403s ${refused}, expected ${spec.expectedRefused}`);
  if (proxyAfter !== null && proxyAfter.processes === 0) notes.push('the proxy process is gone');
  const kept = achieved >= spec.rate * MIN_RATE_KEPT;
  if (!kept) notes.push(`SIPp reached ${achieved.toFixed(0)}/s of ${spec.rate}/s`);
  const retransShare = retransmissions / attempted;
  const clean =
    s !== undefined && failed === 0 && result.exitCode === 0 && !result.killedAfterTimeout && retransShare < MAX_RETRANS_SHARE && kept &&
    (proxyAfter === null || proxyAfter.processes > 0);
  return {
    spec,
    successful,
    failed,
    retransmissions,
    retransShare,
    refused,
    achieved,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    wallS,
    window: [startUs, endUs],
    proxyCpu: proxyCpuS === null ? null : proxyCpuS / wallS,
    proxyUsPerCall: proxyCpuS === null ? null : (proxyCpuS * 1e6) / Math.max(1, successful),
    proxy: proxyAfter,
    registrarCpu: (registrarAfter.cpu - registrarBefore.cpu) / wallS,
    sippCpu,
    exitCode: result.exitCode,
    clean,
    notes,
  };
}
