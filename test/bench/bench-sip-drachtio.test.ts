import { describe, expect, it } from 'vitest';
import { drachtioPairSummary, drachtioSummary, type StepFigures } from '../../scripts/bench-sip-drachtio.js';

const step = (path: string, rate: number, clean: boolean, app: number, server: number, calls = rate * 5): StepFigures => ({
  spec: { path, rate, calls },
  verdict: { clean },
  proxyUsPerCall: app,
  companionUsPerCall: server,
});

describe('the drachtio paths’ summary', () => {
  it('sets the policy’s CPU against the bare app at the highest rate both were clean, preferring the long step', () => {
    const lines = drachtioSummary(
      [{ path: 'drachtio', rate: 1000 }, { path: 'dr-bare', rate: 1250 }],
      [
        step('drachtio', 500, true, 130, 600),
        step('dr-bare', 500, true, 120, 590),
        step('drachtio', 1000, true, 150, 700),
        step('drachtio', 1000, true, 110, 650, 15_000), // the confirming step
        step('dr-bare', 1000, true, 100, 640),
        step('dr-bare', 1250, true, 95, 630),
        step('drachtio', 1250, false, 400, 900),
      ],
    );
    expect(lines[1]).toContain('  1000 REGISTER/s');
    expect(lines[2]).toContain('  1250 REGISTER/s');
    expect(lines).toContain('   1000/s  app 110 µs / 100 µs (1.10) | drachtio-server 650 µs / 640 µs | both 760 µs / 740 µs (1.03)');
    expect(lines.at(-1)).toBe('  target: the policy adds ≤ 20 % to the bare app\'s CPU per REGISTER: MET (+10 % at 1000/s, the highest rate both were clean)');
  });

  it('says MISSED past 20 %, and that there is nothing to compare without a common clean rate', () => {
    const missed = drachtioSummary([], [step('drachtio', 250, true, 130, 600), step('dr-bare', 250, true, 100, 600)]);
    expect(missed.at(-1)).toMatch(/MISSED \(\+30 % at 250\/s/);
    expect(drachtioSummary([], [step('drachtio', 250, false, 1, 1), step('dr-bare', 250, true, 1, 1)]).at(-1)).toBe('  no rate at which both were clean: no CPU comparison');
  });

  it('--drachtio-pairs: compares the n-th steps of each path at a rate, clean or not, with the median and the range', () => {
    const lines = drachtioPairSummary([
      step('drachtio', 1000, true, 150, 600),
      step('dr-bare', 1000, true, 100, 500),
      step('drachtio', 1000, false, 240, 700),
      step('dr-bare', 1000, true, 200, 500),
      step('drachtio', 1000, true, 130, 600),
      step('dr-bare', 1000, true, 100, 600),
    ]);
    // Ratios 1.50, 1.20, 1.30 (application); 750/600, 940/700, 730/700 with drachtio-server.
    expect(lines[1]).toBe('   1000/s  3 pairs (5/6 steps clean): app 150 µs / 100 µs (median); app ratio 1.30 (1.20–1.50); with drachtio-server 1.25 (1.04–1.34)');
    expect(lines.at(-1)).toBe("  target: sipwarden adds ≤ 20 % to the bare app's CPU per REGISTER: MISSED (median of the pairs: +30 % at 1000/s)");
  });

  it('paired steps: the target is met only when the median of every rate is within 20 %', () => {
    const pairs = (rate: number, ratios: readonly number[]): StepFigures[] => ratios.flatMap((r) => [step('drachtio', rate, true, 100 * r, 500), step('dr-bare', rate, true, 100, 500)]);
    const met = drachtioPairSummary([...pairs(250, [1.1, 1.3, 1.15]), ...pairs(500, [0.95, 1.05, 1.2])]);
    expect(met.at(-1)).toBe("  target: sipwarden adds ≤ 20 % to the bare app's CPU per REGISTER: MET (median of the pairs: +15 % at 250/s, +5 % at 500/s)");
    const missed = drachtioPairSummary([...pairs(250, [1.25, 1.3, 1.15]), ...pairs(500, [0.95, 1.05, 1.2])]);
    expect(missed.at(-1)).toMatch(/MISSED \(median of the pairs: \+25 % at 250\/s, \+5 % at 500\/s\)$/);
    expect(drachtioPairSummary([]).at(-1)).toBe('  no pair to compare');
  });

  it('leaves the judgement to the paired steps when a full run has them', () => {
    const lines = drachtioSummary([], [step('drachtio', 250, true, 130, 600), step('dr-bare', 250, true, 100, 600)], true);
    expect(lines.at(-1)).toBe('  (steps run one after the other: the CPU target is judged on the paired steps below)');
    expect(lines.join('\n')).not.toMatch(/MET|MISSED/);
  });
});
