import { describe, expect, it } from 'vitest';
import { completedPerSecond, confirmationOrder, judgeClaims, judgeClean, judgeLicensed, judgeOverload, quantile, type ClaimsMeasure, type StepMeasure } from '../../scripts/bench-sip-verdict.js';

/** A step that kept up with 10,000 REGISTER/s: every rule met. */
const CLEAN: StepMeasure = {
  statsWritten: true,
  exitCode: 0,
  killedAfterTimeout: false,
  rate: 10_000,
  successful: 150_000,
  failed: 0,
  retransmissions: 0,
  refused: 1_500,
  shed: 0,
  completedPerS: 9_990,
  p99Ms: 12,
  proxyAlive: true,
};

describe('judgeClean: what makes a load step clean', () => {
  it('accepts a step that meets every rule', () => {
    expect(judgeClean(CLEAN, 1_500)).toEqual({ clean: true, notes: [] });
  });

  it('refuses a step whose 403s differ from the policy\'s count, either way', () => {
    expect(judgeClean(CLEAN, 1_501)).toEqual({ clean: false, notes: ['403s 1500, expected 1501'] });
    expect(judgeClean({ ...CLEAN, refused: 0 }, 1_500).clean).toBe(false);
  });

  it('refuses a step whose p99 is over 200 ms, and one with no response times at all', () => {
    expect(judgeClean({ ...CLEAN, p99Ms: 200 }, 1_500).clean).toBe(true);
    expect(judgeClean({ ...CLEAN, p99Ms: 201 }, 1_500)).toEqual({ clean: false, notes: ['p99 201 ms > 200 ms'] });
    expect(judgeClean({ ...CLEAN, p99Ms: Number.NaN }, 1_500).notes).toEqual(['p99 n/a ms > 200 ms']);
  });

  it('refuses shed load, failures, retransmissions, a slow pace, a bad SIPp exit and a vanished proxy', () => {
    expect(judgeClean({ ...CLEAN, shed: 1 }, 1_500).notes).toEqual(['1 shed (503)']);
    expect(judgeClean({ ...CLEAN, failed: 2 }, 1_500).notes).toEqual(['2 calls failed']);
    expect(judgeClean({ ...CLEAN, retransmissions: 150 }, 1_500).notes).toEqual(['retransmissions 0.10 % ≥ 0.1 %']);
    expect(judgeClean({ ...CLEAN, retransmissions: 149 }, 1_500).clean).toBe(true);
    expect(judgeClean({ ...CLEAN, completedPerS: 9_499 }, 1_500).notes).toEqual(['completed 9499/s of 10000/s']);
    expect(judgeClean({ ...CLEAN, exitCode: 1 }, 1_500).notes).toEqual(['SIPp exit 1']);
    expect(judgeClean({ ...CLEAN, killedAfterTimeout: true, exitCode: null }, 1_500).notes).toEqual(['SIPp killed after its timeout']);
    expect(judgeClean({ ...CLEAN, statsWritten: false }, 1_500).notes).toEqual(['SIPp wrote no statistics']);
    expect(judgeClean({ ...CLEAN, proxyAlive: false }, 1_500).notes).toEqual(['the process under test is gone']);
  });
});

describe('judgeOverload: a proxy past its clean maximum', () => {
  const at = (completedPerS: number, p99Ms: number): StepMeasure => ({ ...CLEAN, rate: 20_000, completedPerS, p99Ms, shed: 8_000, retransmissions: 900 });

  it('passes when it still completes ≥ 0.9 × its clean maximum with p99 < 500 ms', () => {
    expect(judgeOverload(at(9_000, 499), 10_000)).toEqual({ clean: true, notes: [], completedShare: 0.9 });
  });

  it('fails below 0.9 × the clean maximum or at p99 ≥ 500 ms', () => {
    expect(judgeOverload(at(8_999, 100), 10_000).clean).toBe(false);
    expect(judgeOverload(at(9_500, 500), 10_000).notes).toEqual(['p99 500 ms ≥ 500 ms']);
  });

  it('fails without a clean maximum to compare with', () => {
    expect(judgeOverload(at(9_500, 10), 0).clean).toBe(false);
  });
});

describe('judgeLicensed: REGISTERs and calls while another process holds the write lock', () => {
  it('passes with no failure, the expected 403s, no 503 and p99 < 50 ms over the step and while locked', () => {
    expect(judgeLicensed({ ...CLEAN, p99Ms: 49 }, 1_500, 49)).toEqual({ clean: true, notes: [] });
    expect(judgeLicensed({ ...CLEAN, p99Ms: 8 }, 1_500, null).clean).toBe(true);
  });

  it('fails at p99 ≥ 50 ms, over the step or over the requests sent while the lock was held', () => {
    expect(judgeLicensed({ ...CLEAN, p99Ms: 50 }, 1_500, 8).notes).toEqual(['p99 50 ms ≥ 50 ms']);
    expect(judgeLicensed({ ...CLEAN, p99Ms: 8 }, 1_500, 27_000).notes).toEqual(['p99 while locked 27000 ms ≥ 50 ms']);
    expect(judgeLicensed({ ...CLEAN, p99Ms: Number.NaN }, 1_500, null).notes).toEqual(['p99 n/a ms ≥ 50 ms']);
  });

  it('fails on any failure, 503 or 403 other than expected, whatever the speed', () => {
    expect(judgeLicensed({ ...CLEAN, failed: 1, exitCode: 1 }, 1_500, 5).notes).toEqual(['SIPp exit 1', '1 calls failed']);
    expect(judgeLicensed({ ...CLEAN, shed: 3 }, 1_500, 5).notes).toEqual(['3 answered 503']);
    expect(judgeLicensed(CLEAN, 1_499, 5).notes).toEqual(['403s 1500, expected 1499']);
    expect(judgeLicensed({ ...CLEAN, proxyAlive: false }, 1_500, 5).notes).toEqual(['the process under test is gone']);
  });
});

describe('judgeClaims: new-install claims with and without the lock', () => {
  const locked: ClaimsMeasure = { calls: 5, granted: 0, refused: 0, unavailable: 5, failed: 0, waitsMs: [2004, 2008, 2010, 2003, 2012] };
  const free: ClaimsMeasure = { calls: 5, granted: 5, refused: 0, unavailable: 0, failed: 0, waitsMs: [4, 8, 16, 3, 5] };

  it('locked: every claim 503 after about claimTimeoutMs; free: every claim 200 within it', () => {
    expect(judgeClaims(locked, true, 2000)).toEqual({ clean: true, notes: [] });
    expect(judgeClaims(free, false, 2000)).toEqual({ clean: true, notes: [] });
  });

  it('fails a claim granted or refused while locked, and a 503 without the lock', () => {
    expect(judgeClaims({ ...locked, unavailable: 4, granted: 1 }, true, 2000).notes).toEqual(['4 of 5 answered 503 (200 1, 403 0, 503 4)']);
    expect(judgeClaims({ ...free, granted: 4, unavailable: 1 }, false, 2000).notes).toEqual(['4 of 5 answered 200 (200 4, 403 0, 503 1)']);
  });

  it('fails a wait cut short or running long (a loop that waits on the store), and a claim never answered', () => {
    expect(judgeClaims({ ...locked, waitsMs: [1008, 2004, 2008, 2010, 2003] }, true, 2000).notes).toEqual(['waits 1008 ms outside 1950–3000 ms']);
    expect(judgeClaims({ ...locked, waitsMs: [2004, 2008, 2010, 2003, 3001] }, true, 2000).clean).toBe(false);
    expect(judgeClaims({ ...free, waitsMs: [4, 8, 16, 3, 2001] }, false, 2000).notes).toEqual(['waits 2001 ms outside 0–2000 ms']);
    const lost = judgeClaims({ ...locked, unavailable: 4, failed: 1, waitsMs: [2004, 2008, 2010, 2003] }, true, 2000);
    expect(lost.notes).toEqual(['1 failed (no answer, or a 503 without Retry-After)', '4 of 5 answered 503 (200 0, 403 0, 503 4)']);
  });
});

describe('confirmationOrder: which probes a long step confirms', () => {
  it('every clean probe rate, highest first, without repeats', () => {
    const probes = [
      { rate: 4000, clean: true },
      { rate: 6000, clean: true },
      { rate: 8000, clean: false },
      { rate: 6000, clean: true },
    ];
    expect(confirmationOrder(probes)).toEqual([6000, 4000]);
    expect(confirmationOrder([{ rate: 4000, clean: false }])).toEqual([]);
  });
});

describe('completedPerSecond: answers inside the offered window', () => {
  it('counts answers from the first one until the window ends, late ones not at all', () => {
    // 10 s offered; 1,000 answers in the window, 500 stragglers after it.
    const inWindow = Array.from({ length: 1000 }, (_, i) => 5_000 + i * 10);
    const late = Array.from({ length: 500 }, (_, i) => 15_001 + i);
    expect(completedPerSecond([...late, ...inWindow], 10)).toBe(100);
    expect(completedPerSecond([], 10)).toBe(0);
  });

  it('handles a quarter of a million answers (no spread into Math.min)', () => {
    const many = Array.from({ length: 250_000 }, (_, i) => i / 25);
    expect(completedPerSecond(many, 10)).toBe(25_000);
  });
});

describe('quantile', () => {
  it('takes the value at the rank, NaN for nothing', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.99)).toBe(100);
    expect(quantile(sorted, 0.5)).toBe(51);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
