/**
 * The rules a load step of `bench:sip` is held to, as pure functions of what was measured, so that
 * they are unit-tested (test/bench/bench-sip-verdict.test.ts) and printed from one place.
 *
 * Clean (a rate a path can carry): SIPp wrote its statistics and exited 0, no call failed, under
 * 0.1 % of the calls were retransmitted, the responses kept up with ≥ 95 % of the offered rate,
 * the licence refusals (403) are exactly the expected count (a path that refuses more or fewer
 * than the policy says is not carrying the load, whatever its speed), nothing was shed (503), the
 * 99th percentile response time is ≤ 200 ms, and the process under test is still there.
 *
 * Overload (a rate past the clean maximum): what the path still completes — final answers other
 * than a 503, per second of offered load — is ≥ 0.9 × its clean maximum, and the p99 of those
 * answers is < 500 ms (issue 8, item 7).
 *
 * Licensed traffic beside a held write lock (issue 8, item 4): SIPp exit 0, no call failed, the
 * 403s exactly the expected count, nothing shed, and p99 < 50 ms over the step and over the span
 * the lock was held. New-install claims then: every one answered 503 (with Retry-After, which the
 * SIPp scenario checks) after waiting policy.claimTimeoutMs, never much longer; without the lock
 * every one granted (200) within that time.
 */

export const CLEAN_RULES = {
  maxRetransShare: 0.001,
  minRateKept: 0.95,
  maxP99Ms: 200,
} as const;

export const OVERLOAD_RULES = {
  multiples: [1.25, 1.5, 2] as readonly number[],
  minCompletedShare: 0.9,
  maxP99Ms: 500,
} as const;

export const LOCK_RULES = {
  maxP99Ms: 50,
  /** A claim's wait may fall short of claimTimeoutMs by SIPp's and the timer's granularity. */
  claimEarlyMs: 50,
  /** … and exceed it by this much (a loop that waits on the store answers seconds late). */
  claimLateMs: 1000,
} as const;

export interface StepMeasure {
  /** SIPp wrote its -trace_stat file. */
  readonly statsWritten: boolean;
  readonly exitCode: number | null;
  readonly killedAfterTimeout: boolean;
  /** Offered rate (SIPp -r). */
  readonly rate: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  /** 403 responses received. */
  readonly refused: number;
  /** 503 responses received (load shed by the path under test). */
  readonly shed: number;
  /** Final answers other than 503 per second of the offered window. */
  readonly completedPerS: number;
  /** p99 of the response times of those answers, ms (NaN when none). */
  readonly p99Ms: number;
  /** False when the process under test is gone after the step. */
  readonly proxyAlive: boolean;
}

export interface Verdict {
  readonly clean: boolean;
  /** Why not, one short phrase per broken rule. */
  readonly notes: readonly string[];
}

/** `expectedRefused`: the 403s the policy produces for exactly these calls (0 where nothing enforces licences). */
export function judgeClean(m: StepMeasure, expectedRefused: number): Verdict {
  const notes: string[] = [];
  const attempted = Math.max(1, m.successful + m.failed);
  if (!m.statsWritten) notes.push('SIPp wrote no statistics');
  if (m.killedAfterTimeout) notes.push('SIPp killed after its timeout');
  else if (m.exitCode !== 0) notes.push(`SIPp exit ${m.exitCode ?? 'signal'}`);
  if (m.failed > 0) notes.push(`${m.failed} calls failed`);
  if (m.retransmissions / attempted >= CLEAN_RULES.maxRetransShare) notes.push(`retransmissions ${((m.retransmissions / attempted) * 100).toFixed(2)} % ≥ ${CLEAN_RULES.maxRetransShare * 100} %`);
  if (m.completedPerS < m.rate * CLEAN_RULES.minRateKept) notes.push(`completed ${m.completedPerS.toFixed(0)}/s of ${m.rate}/s`);
  if (m.refused !== expectedRefused) notes.push(`403s ${m.refused}, expected ${expectedRefused}`);
  if (m.shed > 0) notes.push(`${m.shed} shed (503)`);
  if (!(m.p99Ms <= CLEAN_RULES.maxP99Ms)) notes.push(`p99 ${Number.isFinite(m.p99Ms) ? m.p99Ms : 'n/a'} ms > ${CLEAN_RULES.maxP99Ms} ms`);
  if (!m.proxyAlive) notes.push('the process under test is gone');
  return { clean: notes.length === 0, notes };
}

export interface OverloadVerdict extends Verdict {
  /** Completed per second as a share of the path's clean maximum. */
  readonly completedShare: number;
}

export function judgeOverload(m: StepMeasure, cleanMax: number): OverloadVerdict {
  const notes: string[] = [];
  const completedShare = cleanMax > 0 ? m.completedPerS / cleanMax : 0;
  if (completedShare < OVERLOAD_RULES.minCompletedShare) notes.push(`completes ${(completedShare * 100).toFixed(0)} % of the clean max < ${OVERLOAD_RULES.minCompletedShare * 100} %`);
  if (!(m.p99Ms < OVERLOAD_RULES.maxP99Ms)) notes.push(`p99 ${Number.isFinite(m.p99Ms) ? m.p99Ms : 'n/a'} ms ≥ ${OVERLOAD_RULES.maxP99Ms} ms`);
  if (!m.proxyAlive) notes.push('the process under test is gone');
  return { clean: notes.length === 0, notes, completedShare };
}

/**
 * The rates to confirm with a long step, best first: every probed rate that was clean, from the
 * highest down. A path's clean maximum is the first of these whose long step is clean too, so a
 * short probe that got lucky never stands as the figure.
 */
export function confirmationOrder(probes: readonly { readonly rate: number; readonly clean: boolean }[]): number[] {
  return [...new Set(probes.filter((p) => p.clean).map((p) => p.rate))].sort((a, b) => b - a);
}

/** p-th quantile (0..1) of ascending values; NaN for none. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/**
 * Final answers per second of the offered window: the answers measured (timestamps in ms, any
 * order) from the first one until `windowS` later, over `windowS`. A path that falls behind
 * answers fewer inside the window; its late answers, however many, do not count.
 */
export function completedPerSecond(answerTimesMs: readonly number[], windowS: number): number {
  if (answerTimesMs.length === 0 || windowS <= 0) return 0;
  let first = Number.POSITIVE_INFINITY;
  for (const t of answerTimesMs) if (t < first) first = t;
  const end = first + windowS * 1000;
  let inside = 0;
  for (const t of answerTimesMs) if (t <= end) inside++;
  return inside / windowS;
}

/** Licensed traffic (REGISTERs or calls) beside a held write lock; `lockP99Ms`: the p99 of the answers to requests sent while it was held (null: none). */
export function judgeLicensed(m: StepMeasure, expectedRefused: number, lockP99Ms: number | null): Verdict {
  const notes: string[] = [];
  const p99 = (v: number): string => (Number.isFinite(v) ? String(v) : 'n/a');
  if (!m.statsWritten) notes.push('SIPp wrote no statistics');
  if (m.killedAfterTimeout) notes.push('SIPp killed after its timeout');
  else if (m.exitCode !== 0) notes.push(`SIPp exit ${m.exitCode ?? 'signal'}`);
  if (m.failed > 0) notes.push(`${m.failed} calls failed`);
  if (m.refused !== expectedRefused) notes.push(`403s ${m.refused}, expected ${expectedRefused}`);
  if (m.shed > 0) notes.push(`${m.shed} answered 503`);
  if (!(m.p99Ms < LOCK_RULES.maxP99Ms)) notes.push(`p99 ${p99(m.p99Ms)} ms ≥ ${LOCK_RULES.maxP99Ms} ms`);
  if (lockP99Ms !== null && !(lockP99Ms < LOCK_RULES.maxP99Ms)) notes.push(`p99 while locked ${p99(lockP99Ms)} ms ≥ ${LOCK_RULES.maxP99Ms} ms`);
  if (!m.proxyAlive) notes.push('the process under test is gone');
  return { clean: notes.length === 0, notes };
}

export interface ClaimsMeasure {
  /** Claims sent. */
  readonly calls: number;
  readonly granted: number;
  readonly refused: number;
  readonly unavailable: number;
  /** No final answer, or a 503 without Retry-After (the scenario's check). */
  readonly failed: number;
  /** Each answered claim's wait, ms. */
  readonly waitsMs: readonly number[];
}

/** New-install claims: with the lock held (`locked`) each is a 503 after about `claimTimeoutMs`; without it each a 200 within it. */
export function judgeClaims(c: ClaimsMeasure, locked: boolean, claimTimeoutMs: number): Verdict {
  const notes: string[] = [];
  if (c.failed > 0) notes.push(`${c.failed} failed (no answer, or a 503 without Retry-After)`);
  const expected = locked ? c.unavailable : c.granted;
  if (expected !== c.calls) notes.push(`${expected} of ${c.calls} answered ${locked ? '503' : '200'} (200 ${c.granted}, 403 ${c.refused}, 503 ${c.unavailable})`);
  if (c.waitsMs.length < c.calls - c.failed) notes.push(`${c.waitsMs.length} waits measured of ${c.calls - c.failed} answers`);
  const low = locked ? claimTimeoutMs - LOCK_RULES.claimEarlyMs : 0;
  const high = locked ? claimTimeoutMs + LOCK_RULES.claimLateMs : claimTimeoutMs;
  const outside = c.waitsMs.filter((w) => w < low || w > high);
  if (outside.length > 0) notes.push(`waits ${outside.join(', ')} ms outside ${low}–${high} ms`);
  return { clean: notes.length === 0, notes };
}
