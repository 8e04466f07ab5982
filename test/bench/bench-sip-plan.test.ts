import { describe, expect, it } from 'vitest';
import { BenchUsageError, parsePlan } from '../../scripts/bench-sip-plan.js';

const PATHS = ['sidecar', 'reference', 'direct'];

describe('bench:sip options', () => {
  it('a full run: every part but the reference setups, every path, 5 s probes confirmed by 15 s steps, overload at 1.25/1.5/2×', () => {
    const p = parsePlan([], PATHS);
    expect(p.parts).toEqual(['register', 'overload', 'invite', 'mixed', 'installs', 'lock', 'split']);
    expect(p.paths).toEqual(PATHS);
    expect(p.stepSeconds).toBe(5);
    expect(p.confirmSeconds).toBe(15);
    expect(p.overloadMultiples).toEqual([1.25, 1.5, 2]);
    expect(p.claimRate).toBe(2000);
    expect(p.renewalInstalls).toBe(10_000);
    expect(p.burstSeconds).toBe(10);
    expect(p.lockRate).toBe(1000);
    expect(p.lockSeconds).toBe(30);
  });

  it('the lock part: in --quick too (shorter, lower), --lock-rate and --lock-seconds', () => {
    const quick = parsePlan(['--quick'], PATHS);
    expect(quick.parts).toContain('lock');
    expect([quick.lockRate, quick.lockSeconds]).toEqual([500, 8]);
    const p = parsePlan(['--only', 'lock', '--lock-rate', '2000', '--lock-seconds', '10'], PATHS);
    expect(p.parts).toEqual(['lock']);
    expect([p.lockRate, p.lockSeconds]).toEqual([2000, 10]);
  });

  it('partial runs: --only, --paths, --rates (sorted, deduplicated), --step-seconds', () => {
    const p = parsePlan(['--only', 'mixed,invite', '--paths', 'sidecar,reference', '--rates', '9000,3000,9000', '--mixed-rates', '500', '--step-seconds', '3'], PATHS);
    expect(p.parts).toEqual(['mixed', 'invite']);
    expect(p.paths).toEqual(['sidecar', 'reference']);
    expect(p.rates.register).toEqual([3000, 9000]);
    expect(p.rates.mixed).toEqual([500]);
    expect(p.stepSeconds).toBe(3);
  });

  it('--drachtio-rates sets the drachtio ladder (sorted, deduplicated); without it that ladder keeps its own rates', () => {
    expect(parsePlan(['--drachtio-rates', '1000,500,1000'], PATHS).drachtioRates).toEqual([500, 1000]);
    expect(parsePlan([], PATHS).drachtioRates).toBeNull();
    expect(parsePlan(['--drachtio-pairs', '3'], PATHS).drachtioPairs).toBe(3);
    expect(parsePlan([], PATHS).drachtioPairs).toBe(0);
  });

  it('--setups picks reference setups to compare; an unknown one is refused', () => {
    expect(parsePlan(['--only', 'reference-setups', '--setups', 'reference,2-workers'], PATHS, ['reference', '2-workers', 'qm']).setups).toEqual(['reference', '2-workers']);
    expect(parsePlan([], PATHS, ['reference', 'qm']).setups).toEqual(['reference', 'qm']);
    expect(() => parsePlan(['--setups', 'fast'], PATHS, ['reference'])).toThrow(/--setups: unknown setup "fast"; expected some of reference/);
  });

  it('--only overload brings the REGISTER ladder it is a multiple of', () => {
    expect(parsePlan(['--only', 'overload'], PATHS).parts).toEqual(['register', 'overload']);
  });

  it.each([
    [['--only', 'registr'], /unknown part "registr"; expected some of register,overload/],
    [['--paths', 'sidecar,kamailio'], /unknown path "kamailio"; expected some of sidecar,reference,direct/],
    [['--rates', '1000,-5'], /--rates "1000,-5": expected a comma-separated list of positive integers/],
    [['--drachtio-rates', '0'], /--drachtio-rates "0": expected a comma-separated list of positive integers/],
    [['--drachtio-pairs', '1.5'], /--drachtio-pairs "1.5": expected a whole number from 0 to 50/],
    [['--invite-rates', '1.5'], /--invite-rates "1.5": expected a comma-separated list of positive integers/],
    [['--overload-multiples', 'x'], /--overload-multiples "x": expected a comma-separated list of positive numbers/],
    [['--step-seconds', '0'], /--step-seconds "0": expected a number from 1 to 120/],
    [['--lock-rate', '1e3x'], /--lock-rate "1e3x": expected a number from 10 to 50000/],
    [['--lock-rate', '999.5'], /--lock-rate "999.5": expected a whole number from 10 to 50000/],
    [['--lock-seconds', '4'], /--lock-seconds "4": expected a number from 5 to 120/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j with one line saying what is expected', (argv, message) => {
    expect(() => parsePlan(argv, PATHS)).toThrow(BenchUsageError);
    expect(() => parsePlan(argv, PATHS)).toThrow(message);
  });
});
