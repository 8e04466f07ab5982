import { describe, expect, it } from 'vitest';
import { drachtioPairSummary, drachtioSummary, type Pair, type StepFigures } from '../../scripts/bench-sip-drachtio.js';

const step = (path: string, rate: number, clean: boolean, app: number, server: number, calls = rate * 5): StepFigures => ({
  spec: { path, rate, calls },
  verdict: { clean },
  proxyUsPerCall: app,
  companionUsPerCall: server,
});

/** A candidate's step run at the same time as the bare app's. */
const pair = (candidate: StepFigures, reference: StepFigures): Pair<StepFigures> => ({ candidate, reference });

/** Pairs of `path` against dr-bare at `rate`, the candidate's CPU `ratio` times the bare app's 100 µs. */
const pairsOf = (path: string, rate: number, ratios: readonly number[]): Pair<StepFigures>[] =>
  ratios.map((r) => pair(step(path, rate, true, 100 * r, 500), step('dr-bare', rate, true, 100, 500)));

describe('the drachtio paths’ summary', () => {
  it('sets each candidate’s CPU against the bare app at the rates both were clean, preferring the long step, and judges dr-mw at the highest', () => {
    const lines = drachtioSummary(
      [{ path: 'drachtio', rate: 1000 }, { path: 'dr-mw', rate: 1000 }, { path: 'dr-bare', rate: 1250 }],
      [
        step('drachtio', 500, true, 130, 600),
        step('dr-mw', 500, true, 125, 600),
        step('dr-bare', 500, true, 120, 590),
        step('drachtio', 1000, true, 150, 700),
        step('drachtio', 1000, true, 130, 650, 15_000), // the confirming step
        step('dr-mw', 1000, true, 110, 650, 15_000),
        step('dr-bare', 1000, true, 100, 640),
        step('dr-bare', 1250, true, 95, 630),
        step('drachtio', 1250, false, 400, 900),
      ],
    );
    expect(lines.slice(1, 4)).toEqual([
      "  dr-mw      1000 REGISTER/s  the bare app with sipwarden's middleware",
      '  drachtio   1000 REGISTER/s  sipwarden serve, drachtio mode',
      '  dr-bare    1250 REGISTER/s  bare drachtio-srf proxy app',
    ]);
    expect(lines).toContain('   1000/s  app 110 µs / 100 µs (1.10) | drachtio-server 650 µs / 640 µs | both 760 µs / 740 µs (1.03)');
    expect(lines).toContain('   1000/s  app 130 µs / 100 µs (1.30) | drachtio-server 650 µs / 640 µs | both 780 µs / 740 µs (1.05)');
    // Judged on the policy in the bare app (dr-mw) only; serve is shown, not judged.
    expect(lines.filter((l) => l.includes('target:'))).toEqual([
      "  target: the policy adds ≤ 20 % to the bare app's CPU per REGISTER (dr-mw): MET (+10 % at 1000/s, the highest rate both were clean)",
    ]);
  });

  it('says MISSED past 20 %, and that there is nothing to compare without a common clean rate', () => {
    const missed = drachtioSummary([], [step('dr-mw', 250, true, 130, 600), step('dr-bare', 250, true, 100, 600)]);
    expect(missed.at(-1)).toMatch(/\(dr-mw\): MISSED \(\+30 % at 250\/s/);
    expect(drachtioSummary([], [step('dr-mw', 250, false, 1, 1), step('dr-bare', 250, true, 1, 1)]).at(-1)).toBe(
      '  dr-mw: no rate at which it and dr-bare were both clean: no CPU comparison',
    );
  });

  it('--drachtio-pairs: compares each candidate with the bare app it ran beside, clean or not, with the median and the range', () => {
    const lines = drachtioPairSummary([
      pair(step('dr-mw', 1000, true, 150, 600), step('dr-bare', 1000, true, 100, 500)),
      pair(step('drachtio', 1000, true, 400, 600), step('dr-bare', 1000, true, 100, 500)),
      pair(step('dr-mw', 1000, false, 240, 700), step('dr-bare', 1000, true, 200, 500)),
      pair(step('dr-mw', 1000, true, 130, 600), step('dr-bare', 1000, true, 100, 600)),
    ]);
    // dr-mw's ratios 1.50, 1.20, 1.30 (application); 750/600, 940/700, 730/700 with drachtio-server.
    expect(lines.slice(1, 3)).toEqual([
      "  dr-mw: the bare app with sipwarden's middleware",
      '   1000/s  3 pairs (5/6 steps clean): app 150 µs / 100 µs (median); app ratio 1.30 (1.20–1.50); with drachtio-server 1.25 (1.04–1.34)',
    ]);
    // serve's one pair is set against the bare app that ran beside it, not against dr-mw's.
    expect(lines.slice(3, 5)).toEqual([
      '  drachtio: sipwarden serve, drachtio mode',
      '   1000/s  1 pairs (2/2 steps clean): app 400 µs / 100 µs (median); app ratio 4.00 (4.00–4.00); with drachtio-server 1.67 (1.67–1.67)',
    ]);
    expect(lines.slice(-2)).toEqual([
      "  target: the policy adds ≤ 20 % to the bare app's CPU per REGISTER (dr-mw): MISSED (median of the pairs: +30 % at 1000/s)",
      "  drachtio (not the target): adds +300 % at 1000/s to the bare app's CPU per REGISTER (median of the pairs)",
    ]);
  });

  it('paired steps: the target is met only when dr-mw’s median of every rate is within 20 %, whatever serve’s', () => {
    const serve = [...pairsOf('drachtio', 250, [1.4, 1.5, 1.35]), ...pairsOf('drachtio', 500, [1.3, 1.3, 1.3])];
    const met = drachtioPairSummary([...pairsOf('dr-mw', 250, [1.1, 1.3, 1.15]), ...pairsOf('dr-mw', 500, [0.95, 1.05, 1.2]), ...serve]);
    expect(met).toContain("  target: the policy adds ≤ 20 % to the bare app's CPU per REGISTER (dr-mw): MET (median of the pairs: +15 % at 250/s, +5 % at 500/s)");
    expect(met.at(-1)).toBe("  drachtio (not the target): adds +40 % at 250/s, +30 % at 500/s to the bare app's CPU per REGISTER (median of the pairs)");
    const missed = drachtioPairSummary([...pairsOf('dr-mw', 250, [1.25, 1.3, 1.15]), ...pairsOf('dr-mw', 500, [0.95, 1.05, 1.2])]);
    expect(missed.at(-1)).toMatch(/MISSED \(median of the pairs: \+25 % at 250\/s, \+5 % at 500\/s\)$/);
    expect(drachtioPairSummary([]).at(-1)).toBe('  no pair to compare');
  });

  it('leaves the judgement to the paired steps when a full run has them', () => {
    const lines = drachtioSummary([], [step('dr-mw', 250, true, 130, 600), step('dr-bare', 250, true, 100, 600)], true);
    expect(lines.at(-1)).toBe('  (steps run one after the other: the CPU target is judged on the paired steps below)');
    expect(lines.join('\n')).not.toMatch(/MET|MISSED/);
  });
});
