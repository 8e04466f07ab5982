/**
 * The options of `bench:sip`, read once into a plan (pure: tested in test/bench/bench-sip-plan.test.ts).
 * A bad option is one `BenchUsageError` line: what is wrong and what is expected.
 */
import { parseArgs } from 'node:util';
import { OVERLOAD_RULES } from './bench-sip-verdict.js';

/** What a run can measure, in the order a full run does them. */
export const PARTS = ['register', 'overload', 'invite', 'mixed', 'installs', 'lock', 'split', 'reference-setups'] as const;
export type Part = (typeof PARTS)[number];
/** A full run: everything but the reference-setups comparison. */
const FULL: readonly Part[] = ['register', 'overload', 'invite', 'mixed', 'installs', 'lock', 'split'];

export type LadderLoad = 'register' | 'invite' | 'mixed';

export interface Plan {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  /** Path names (bench-sip-paths.ts), as asked. */
  readonly paths: readonly string[];
  /** The reference setups (bench-sip-reference.ts) the reference-setups part compares. */
  readonly setups: readonly string[];
  readonly rates: Readonly<Record<LadderLoad, readonly number[]>>;
  /** Probe rates of the drachtio paths' REGISTER ladder; null = that ladder's own (bench-sip-drachtio.ts). */
  readonly drachtioRates: readonly number[] | null;
  /**
   * 0: the drachtio paths climb a ladder. N > 0: instead, each drachtio rate is run N times per
   * candidate, the candidate and the bare app loaded at the same time, whatever the verdict: pairs
   * of steps whose CPU per REGISTER is compared one by one (the spread says how much a shared
   * machine moved the figures).
   */
  readonly drachtioPairs: number;
  /** Length of a probe step, s. */
  readonly stepSeconds: number;
  /** Length of the step that confirms a clean maximum, and of the overload steps, s. */
  readonly confirmSeconds: number;
  readonly overloadMultiples: readonly number[];
  /** New-install claims per second in the install burst. */
  readonly claimRate: number;
  /** Installs of the renewal project (all re-register after the renewal). */
  readonly renewalInstalls: number;
  /** The claims burst and the renewal re-registrations each last this long, s. */
  readonly burstSeconds: number;
  /** Plain REGISTERs/s beside the bursts; 0 = half the sidecar's clean maximum (or 1,000/s without one). */
  readonly backgroundRate: number;
  /** Plain REGISTERs/s of the lock part (its calls run at a tenth of it). */
  readonly lockRate: number;
  /** How long the lock part's other process holds the database write lock, s (its steps last 10 s more). */
  readonly lockSeconds: number;
  readonly cpuProf: boolean;
  readonly nodeArgs: readonly string[];
  /** Hard limit on the whole run, minutes: everything is stopped past it. */
  readonly maxMinutes: number;
}

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

const DEFAULT_RATES: Readonly<Record<LadderLoad, readonly number[]>> = {
  register: [4000, 6000, 8000, 10000, 12000, 14000, 16000, 18000, 20000, 22000, 24000],
  invite: [500, 1000, 1500, 2000, 2500, 3000, 4000, 5000],
  mixed: [1000, 2000, 4000, 6000, 8000, 10000, 12000, 14000],
};
const QUICK_RATES: Readonly<Record<LadderLoad, readonly number[]>> = {
  register: [1000, 2000],
  invite: [100, 200],
  mixed: [500, 1000],
};

function positiveList(flag: string, text: string, integer: boolean): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))) {
    throw new BenchUsageError(`--${flag} ${JSON.stringify(text)}: expected a comma-separated list of positive ${integer ? 'integers' : 'numbers'}, e.g. ${integer ? '4000,8000' : '1.25,1.5,2'}`);
  }
  return values;
}

function positive(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min || v > max) throw new BenchUsageError(`--${flag} ${JSON.stringify(text)}: expected a number from ${min} to ${max}`);
  return v;
}

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  const v = positive(flag, text, min, min, max);
  if (!Number.isInteger(v)) throw new BenchUsageError(`--${flag} ${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  return v;
}

function ascending(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** `known`: the path names this build has (`--paths` names only those); `setups`: the reference setups (`--setups`). */
export function parsePlan(argv: readonly string[], known: readonly string[], knownSetups: readonly string[] = []): Plan {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        paths: { type: 'string' },
        setups: { type: 'string' },
        rates: { type: 'string' },
        'register-rates': { type: 'string' },
        'invite-rates': { type: 'string' },
        'mixed-rates': { type: 'string' },
        'drachtio-rates': { type: 'string' },
        'drachtio-pairs': { type: 'string' },
        'step-seconds': { type: 'string' },
        'confirm-seconds': { type: 'string' },
        'overload-multiples': { type: 'string' },
        'claim-rate': { type: 'string' },
        'renewal-installs': { type: 'string' },
        'burst-seconds': { type: 'string' },
        'background-rate': { type: 'string' },
        'lock-rate': { type: 'string' },
        'lock-seconds': { type: 'string' },
        'cpu-prof': { type: 'boolean', default: false },
        'node-arg': { type: 'string', multiple: true, default: [] },
        'max-minutes': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new BenchUsageError(`${err instanceof Error ? err.message : String(err)}; see the options at the top of scripts/bench-sip.ts`);
  }
  const quick = values.quick ?? false;
  const parts: Part[] = [];
  for (const p of values.only === undefined ? FULL : values.only.split(',').map((s) => s.trim())) {
    if (!(PARTS as readonly string[]).includes(p)) throw new BenchUsageError(`--only ${JSON.stringify(values.only)}: unknown part ${JSON.stringify(p)}; expected some of ${PARTS.join(',')}`);
    parts.push(p as Part);
  }
  // The overload ladder is a multiple of the REGISTER clean maximum: it needs that ladder first.
  if (parts.includes('overload') && !parts.includes('register')) parts.unshift('register');
  const paths = values.paths === undefined ? [...known] : values.paths.split(',').map((p) => p.trim());
  for (const p of paths) if (!known.includes(p)) throw new BenchUsageError(`--paths: unknown path ${JSON.stringify(p)}; expected some of ${known.join(',')}`);
  if (paths.length === 0) throw new BenchUsageError(`--paths: expected some of ${known.join(',')}`);
  const setups = values.setups === undefined ? [...knownSetups] : values.setups.split(',').map((p) => p.trim());
  for (const p of setups) if (!knownSetups.includes(p)) throw new BenchUsageError(`--setups: unknown setup ${JSON.stringify(p)}; expected some of ${knownSetups.join(',')}`);
  const base = quick ? QUICK_RATES : DEFAULT_RATES;
  const registerRates = values['register-rates'] ?? values.rates;
  const rates: Record<LadderLoad, readonly number[]> = {
    register: registerRates === undefined ? base.register : ascending(positiveList(values['register-rates'] ? 'register-rates' : 'rates', registerRates, true)),
    invite: values['invite-rates'] === undefined ? base.invite : ascending(positiveList('invite-rates', values['invite-rates'], true)),
    mixed: values['mixed-rates'] === undefined ? base.mixed : ascending(positiveList('mixed-rates', values['mixed-rates'], true)),
  };
  return {
    quick,
    parts,
    paths,
    setups,
    rates,
    drachtioRates: values['drachtio-rates'] === undefined ? null : ascending(positiveList('drachtio-rates', values['drachtio-rates'], true)),
    drachtioPairs: wholeNumber('drachtio-pairs', values['drachtio-pairs'], 0, 50),
    stepSeconds: positive('step-seconds', values['step-seconds'], quick ? 2 : 5, 1, 120),
    confirmSeconds: positive('confirm-seconds', values['confirm-seconds'], quick ? 4 : 15, 1, 600),
    overloadMultiples: values['overload-multiples'] === undefined ? OVERLOAD_RULES.multiples : ascending(positiveList('overload-multiples', values['overload-multiples'], false)),
    claimRate: positive('claim-rate', values['claim-rate'], quick ? 200 : 2000, 1, 50_000),
    renewalInstalls: positive('renewal-installs', values['renewal-installs'], quick ? 1000 : 10_000, 1, 100_000),
    burstSeconds: positive('burst-seconds', values['burst-seconds'], quick ? 3 : 10, 1, 120),
    backgroundRate: positive('background-rate', values['background-rate'], 0, 0, 100_000),
    lockRate: wholeNumber('lock-rate', values['lock-rate'] ?? (quick ? '500' : '1000'), 10, 50_000),
    lockSeconds: wholeNumber('lock-seconds', values['lock-seconds'] ?? (quick ? '8' : '30'), 5, 120),
    cpuProf: values['cpu-prof'] ?? false,
    nodeArgs: values['node-arg'] ?? [],
    maxMinutes: positive('max-minutes', values['max-minutes'], 40, 1, 240),
  };
}
