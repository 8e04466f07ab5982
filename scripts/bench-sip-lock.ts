/**
 * The lock part of `bench:sip` (issue 8, item 4): while another process holds the SQLite write
 * lock (BEGIN IMMEDIATE on its own connection, as a CLI command in a long transaction would:
 * test/support/lock-holder.ts), licensed devices keep registering and calling through the sidecar,
 * and the claim of a new app install waits policy.claimTimeoutMs, then is answered 503 +
 * Retry-After (a licence that cannot be recorded is never granted, whatever
 * policy.onInternalError says). Two steps through the sidecar, the same load in each:
 *   baseline  no lock: the claims are granted (200)
 *   locked    LEAD_MS after the loads start another process takes the write lock and holds it for
 *             --lock-seconds; the loads go on TAIL_MS past its release
 * The load of a step: plain REGISTERs at --lock-rate, INVITE/ACK/BYE calls at a tenth of it
 * (bench-uac-invite.xml; the registrar sends the never-registered callees to the SIPp UAS), and
 * up to 5 app REGISTERs of installs the sidecar has never seen, for the `lock` project (free
 * licences), one at a time over the lock's span (bench-claim.xml checks the 503's Retry-After).
 * PASS (bench-sip-verdict.ts, judgeLicensed and judgeClaims): the REGISTERs and the calls have no
 * failure, exactly the expected 403s, no 503, p99 < 50 ms over the step and over the requests sent
 * while the lock was held; the claims are all 503 after about claimTimeoutMs (all 200 without the
 * lock).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { holdWriteLock, type LockHolder } from '../test/support/lock-holder.js';
import { LOCK_FROM, LOCK_GROUP, LOCK_NUMBERS, instanceOf, numberOf, type BenchData } from './bench-sip-db.js';
import type { LadderEnv } from './bench-sip-ladder.js';
import type { RunningPath } from './bench-sip-paths.js';
import { runLoad, withCpu, withUsPerCall, type LoadOutcome, type StepResult, type StepSpec } from './bench-sip-step.js';
import { judgeClaims, judgeLicensed, quantile, type ClaimsMeasure, type Verdict } from './bench-sip-verdict.js';

export interface LockContext {
  readonly sidecar: RunningPath;
  readonly data: BenchData;
  readonly dir: string;
  readonly dbPath: string;
  /** Plain REGISTERs/s; calls at a tenth of it. */
  readonly rate: number;
  readonly lockSeconds: number;
  /** The sidecar's policy.claimTimeoutMs. */
  readonly claimTimeoutMs: number;
  readonly registerScenario: `${string}.xml`;
  readonly inviteScenario: `${string}.xml`;
  readonly claimScenario: `${string}.xml`;
  readonly env: LadderEnv;
}

type LockPhase = 'baseline' | 'locked';

export interface LockStep {
  readonly phase: LockPhase;
  readonly register: StepResult;
  readonly calls: StepResult;
  readonly claims: StepResult;
  /** When the other process held the lock, ms from the step's start (null in the baseline). */
  readonly held: { readonly fromMs: number; readonly toMs: number } | null;
  /** p99 of the requests sent while the lock was held (null in the baseline, or none sent). */
  readonly registerLockP99: number | null;
  readonly callsLockP99: number | null;
  readonly claimsMeasure: ClaimsMeasure;
  /** The Retry-After values of the claims' 503s. */
  readonly retryAfter: readonly string[];
  readonly verdicts: { readonly register: Verdict; readonly calls: Verdict; readonly claims: Verdict };
  /** When the sidecar's overload control started shedding (its log), s from the step's start, with the queue delay it measured. */
  readonly shedding: readonly { readonly atS: number; readonly delayMs: number }[];
  readonly pass: boolean;
}

/** Loads start, then the lock is taken LEAD_MS later; they go on TAIL_MS past its release. */
const LEAD_MS = 5000;
const TAIL_MS = 5000;
/** New-install claims per step, at most. */
const MAX_CLAIMS = 5;
/** Claims this far apart beyond claimTimeoutMs never wait for the lock at the same time. */
const CLAIM_GAP_MS = 500;
const SETTLE_MS = 2000;
/** The sidecar's log line when its overload control starts refusing with 503 (src/sip/proxy/shedding-log.ts). */
const SHEDDING_STARTS = 'overload: shedding new REGISTERs and INVITEs with 503';

/** The calls/s beside `rate` REGISTER/s. */
export const lockCallRate = (rate: number): number => Math.max(1, Math.round(rate / 10));
/** A step's length, s: the lock's span with the lead and tail around it. */
const stepSeconds = (lockSeconds: number): number => lockSeconds + (LEAD_MS + TAIL_MS) / 1000;

let holding: LockHolder | null = null;

/** Ends the lock holder of a step under way (the bench's cleanup on error, time limit or signal). */
export function stopLockHolder(): void {
  holding?.stop();
  holding = null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

function spec(ctx: LockContext, load: string, phase: LockPhase, rate: number, calls: number, scenario: `${string}.xml`, injection: string, expectedRefused: number): StepSpec {
  return {
    path: ctx.sidecar.name, load, phase, target: ctx.sidecar.target, rate, calls, scenario, injection, proxyPid: ctx.sidecar.pid,
    registrarPid: ctx.env.registrarPid, registrarPort: ctx.env.registrarPort, expectedRefused, sippBufferBytes: ctx.env.udpBufferBytes, keepDetail: true,
  };
}

/** p99 of the answers to requests SIPp sent between `fromUs` and `toUs` (CLOCK_MONOTONIC µs); SIPp's clock starts about when runLoad spawned it. */
function p99Between(o: LoadOutcome, fromUs: number, toUs: number): number | null {
  const startMs = o.window[0] / 1000;
  const times = (o.detail?.answers ?? []).filter((a) => {
    const sent = startMs + a.at - a.ms;
    return sent >= fromUs / 1000 && sent <= toUs / 1000;
  }).map((a) => a.ms).sort((a, b) => a - b);
  return times.length === 0 ? null : quantile(times, 0.99);
}

function claimsOf(o: LoadOutcome): ClaimsMeasure {
  const m = o.measure;
  return {
    calls: o.spec.calls,
    granted: Math.max(0, m.successful - m.refused - m.shed),
    refused: m.refused,
    unavailable: m.shed,
    failed: m.failed,
    waitsMs: (o.detail?.answers ?? []).map((a) => a.ms),
  };
}

/** The claims' injection rows: number;instance;pn-prid, each a number and install of the lock project never used before. */
function writeClaims(path: string, from: number, count: number): void {
  if (from + count > LOCK_NUMBERS) throw new Error(`the lock project has ${LOCK_NUMBERS} numbers; claims ${from}–${from + count} asked`);
  const rows = Array.from({ length: count }, (_, i) => LOCK_FROM + from + i).map((k) => `${numberOf(k)};${instanceOf(k)};prid-${k}`);
  writeFileSync(path, `SEQUENTIAL\n${rows.join('\n')}\n`);
}

/** As many claims as fit in the lock's span one after the other, up to MAX_CLAIMS (at least one). */
function claimCount(ctx: LockContext): number {
  const fit = Math.floor((ctx.lockSeconds * 1000 - ctx.claimTimeoutMs - 1000) / (ctx.claimTimeoutMs + CLAIM_GAP_MS));
  return Math.max(1, Math.min(MAX_CLAIMS, fit));
}

async function lockStep(ctx: LockContext, phase: LockPhase, claimFrom: number): Promise<LockStep> {
  const stepS = stepSeconds(ctx.lockSeconds);
  const callRate = lockCallRate(ctx.rate);
  const registers = Math.round(ctx.rate * stepS);
  const register = spec(ctx, 'register', phase, ctx.rate, registers, ctx.registerScenario, ctx.data.registerCsv, ctx.data.refusedWithin(registers));
  const calls = spec(ctx, 'invite', phase, callRate, Math.round(callRate * stepS), ctx.inviteScenario, ctx.data.inviteCsv, 0);
  // SIPp sends its first call one period after it starts: the claims come every `spacing` ms, the
  // last answered 1 s before the lock ends. One at a time: the install writer takes the claims that
  // wait together in one transaction, which gives up at the earliest deadline among them.
  const count = claimCount(ctx);
  const spacing = (ctx.lockSeconds * 1000 - ctx.claimTimeoutMs - 1000) / count;
  const claimCsv = join(ctx.dir, `lock-claims-${phase}.csv`);
  writeClaims(claimCsv, claimFrom, count);
  const claims = { ...spec(ctx, 'claims', phase, Math.round(100_000 / spacing) / 100, count, ctx.claimScenario, claimCsv, 0), graceSec: 30 };

  const t0 = nowUs();
  const epoch0 = Date.now();
  const logMark = ctx.sidecar.logLines?.().length ?? 0;
  let held: { fromUs: number; toUs: number } | null = null;
  const { value, cpu, wallS } = await withCpu(register, async () => {
    const loads = Promise.all([runLoad(register), runLoad(calls)]);
    try {
      await sleep(LEAD_MS);
      if (phase === 'baseline') {
        const claimed = await runLoad(claims);
        return [...(await loads), claimed] as const;
      }
      holding = holdWriteLock(ctx.dbPath, ctx.lockSeconds * 1000);
      await holding.locked;
      const fromUs = nowUs();
      const claimed = await runLoad(claims);
      await holding.released;
      held = { fromUs, toUs: nowUs() };
      return [...(await loads), claimed] as const;
    } catch (err) {
      await loads.catch(() => undefined);
      throw err;
    } finally {
      stopLockHolder();
    }
  });
  const [reg, call, claim] = value.map((o) => withUsPerCall(o, cpu, wallS, true)) as [StepResult, StepResult, StepResult];
  const span = held as { fromUs: number; toUs: number } | null;
  const registerLockP99 = span ? p99Between(reg, span.fromUs, span.toUs) : null;
  const callsLockP99 = span ? p99Between(call, span.fromUs, span.toUs) : null;
  const claimsMeasure = claimsOf(claim);
  const verdicts = {
    register: judgeLicensed(reg.measure, register.expectedRefused, registerLockP99),
    calls: judgeLicensed(call.measure, 0, callsLockP99),
    claims: judgeClaims(claimsMeasure, phase === 'locked', ctx.claimTimeoutMs),
  };
  return {
    phase,
    register: reg,
    calls: call,
    claims: claim,
    held: span ? { fromMs: (span.fromUs - t0) / 1000, toMs: (span.toUs - t0) / 1000 } : null,
    registerLockP99,
    callsLockP99,
    claimsMeasure,
    shedding: (ctx.sidecar.logLines?.() ?? []).slice(logMark).filter((l) => l.msg === SHEDDING_STARTS)
      .map((l) => ({ atS: (Number(l.time) - epoch0) / 1000, delayMs: Number(l.delayMs) })),
    retryAfter: [...(claim.detail?.logged ?? '').matchAll(/retry-after=(\S+)/g)].map((m) => m[1] as string),
    verdicts,
    pass: verdicts.register.clean && verdicts.calls.clean && verdicts.claims.clean,
  };
}

const ms = (v: number | null): string => (v === null || !Number.isFinite(v) ? '-' : `${v.toFixed(0)} ms`);
const verdictOf = (v: Verdict): string => (v.clean ? 'PASS' : `FAIL (${v.notes.join('; ')})`);

/** The lines of one step after its rows: the lock's span, the claims, the verdicts. */
export function lockStepLines(s: LockStep, claimTimeoutMs: number): string[] {
  const c = s.claimsMeasure;
  const waits = [...c.waitsMs].sort((a, b) => a - b);
  const ra = [...new Set(s.retryAfter)];
  const loop = s.register.proxyLoop;
  const shed = s.shedding.map((x) => `${x.atS.toFixed(1)} s (queue delay ${x.delayMs} ms)`).join(', ');
  return [
    `  ${s.phase}: ${s.held ? `another process held the write lock from ${(s.held.fromMs / 1000).toFixed(1)} s to ${(s.held.toMs / 1000).toFixed(1)} s of the step` : 'no lock'}; ` +
      `REGISTER p99 ${ms(s.register.measure.p99Ms)} (while locked ${ms(s.registerLockP99)}): ${verdictOf(s.verdicts.register)}; ` +
      `calls p99 ${ms(s.calls.measure.p99Ms)} (while locked ${ms(s.callsLockP99)}): ${verdictOf(s.verdicts.calls)}`,
    `  ${s.phase}: the sidecar's main thread on a CPU ${loop ? `${(loop.ran * 100).toFixed(0)} %, waiting for one ${(loop.waited * 100).toFixed(0)} %` : '-'} of the step; ` +
      `other processes ${(s.register.otherCpu * 100).toFixed(0)} % CPU; ${shed ? `overload control started shedding at ${shed}` : 'no load shedding'}`,
    `  ${s.phase}: ${c.calls} new-install claims of '${LOCK_GROUP}': 200 ×${c.granted}, 403 ×${c.refused}, 503 ×${c.unavailable}${ra.length ? ` (Retry-After ${ra.join(', ')})` : ''}, ${c.failed} failed; ` +
      `waited ${waits.length ? `${waits[0]}–${waits.at(-1)} ms` : '-'} (policy.claimTimeoutMs ${claimTimeoutMs}): ${verdictOf(s.verdicts.claims)}`,
  ];
}

/** Baseline, then the same load with the write lock held by another process. */
export async function lockSteps(ctx: LockContext): Promise<LockStep[]> {
  const steps: LockStep[] = [];
  let claimFrom = 0;
  for (const phase of ['baseline', 'locked'] as const) {
    if (Date.now() >= ctx.env.deadline) break;
    ctx.env.print(
      `${phase}: ${ctx.rate} plain REGISTER/s and ${lockCallRate(ctx.rate)} calls/s through the sidecar for ${stepSeconds(ctx.lockSeconds)} s, ` +
        `${claimCount(ctx)} new installs claiming one at a time${phase === 'locked' ? `; another process holds the write lock for ${ctx.lockSeconds} s from ${LEAD_MS / 1000} s` : ''}`,
    );
    const s = await lockStep(ctx, phase, claimFrom);
    claimFrom += s.claimsMeasure.calls;
    ctx.env.printRow(s.register);
    ctx.env.printRow(s.calls);
    for (const line of lockStepLines(s, ctx.claimTimeoutMs)) ctx.env.print(line);
    steps.push(s);
    await sleep(SETTLE_MS);
  }
  return steps;
}

/** The summary of the part. */
export function lockSummary(steps: readonly LockStep[], claimTimeoutMs: number): string[] {
  const lines = ['Write lock held by another process (issue 8, item 4), through the sidecar; PASS = 0 failed, 403 as expected, 0 × 503, p99 < 50 ms; claims 503 after their wait:'];
  for (const s of steps) {
    for (const r of [s.register, s.calls]) {
      const m = r.measure;
      lines.push(
        `  ${s.phase.padEnd(8)} ${r.spec.load.padEnd(8)} ${m.successful + m.failed} at ${r.spec.rate}/s: ${m.failed} failed, 403 ${m.refused}/${r.spec.expectedRefused}, 503 ${m.shed}, ` +
          `p50 ${ms(r.p50Ms)}, p99 ${ms(m.p99Ms)} (while locked ${ms(r === s.register ? s.registerLockP99 : s.callsLockP99)}), retr ${(r.retransShare * 100).toFixed(2)} %, load ${r.load1.toFixed(1)}`,
      );
    }
    lines.push(...lockStepLines(s, claimTimeoutMs).slice(1));
    lines.push(`  ${s.phase}: ${s.pass ? 'PASS' : 'FAIL'}`);
  }
  return lines;
}
