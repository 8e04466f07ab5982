/**
 * The drachtio paths of `bench:sip`, run where a drachtio-server binary is found (SIPWARDEN_DRACHTIO
 * or PATH; otherwise each says why it is skipped). SIPp sends REGISTERs to a real drachtio-server
 * (its own per path), whose application proxies them to the benchmark's registrar:
 *   drachtio   `sipwarden serve` in drachtio mode (its own process, log level info, real policy)
 *   dr-mw      the bare app with sipwarden's middleware in front of its routes (`createSipwarden`,
 *              same database, log level info): what the policy adds to the bare app
 *   dr-bare    a bare drachtio-srf proxy app (bench-drachtio-bare-app.ts): the reference
 * The path's process is the application; its drachtio-server is read as the path's companion, so
 * every row shows both, and the summary sets each candidate's CPU against the bare app's (target:
 * the policy adds at most 20 %, judged on dr-mw; serve, a whole sidecar process, is shown beside
 * it). drachtio-server carries far less than the embedded proxy, so these paths climb their own,
 * lower ladder (DRACHTIO_RATES) after the REGISTER ladder.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load-config.js';
import type { ConfigInput } from '../src/config/schema.js';
import { upstreamUri } from '../src/sip/drachtio/upstream-uri.js';
import { startDrachtioServer } from '../test/support/drachtio-server.js';
import { startProcess, type ManagedProcess } from '../test/support/managed-process.js';
import { drachtioBinary } from '../test/support/peer-tools.js';
import { probeSipOptions } from '../test/support/sip-options-probe.js';
import { climb, step, type LadderEnv, type LadderOutcome, type LoadDriver } from './bench-sip-ladder.js';
import type { PathContext, PathDefinition, RunningPath } from './bench-sip-paths.js';
import type { Plan } from './bench-sip-plan.js';
import type { CleanMax } from './bench-sip-report.js';
import type { StepResult } from './bench-sip-step.js';

/** Probe rates of the drachtio ladder (REGISTER/s). */
export const DRACHTIO_RATES = { full: [250, 500, 750, 1000, 1250, 1500, 2000, 2500], quick: [250, 500] } as const;
/** The policy may add at most this share to the bare application's CPU per REGISTER (issue 9). */
export const MAX_POLICY_OVERHEAD = 0.2;
const SECRET = 'bench-secret';

type AppKind = 'sipwarden' | 'middleware' | 'bare';

function cleanEnv(): NodeJS.ProcessEnv {
  // The path's own config is the whole truth: no SIPWARDEN_* override from the caller's shell.
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_') && k !== 'NODE_OPTIONS'));
}

/** Starts the application of a drachtio path, connected to drachtio-server's admin port. */
function startApp(kind: AppKind, ctx: PathContext, adminPort: number): { app: ManagedProcess; log: string } {
  const log = join(ctx.dir, `drachtio-${kind}.log`);
  const files = { cwd: ctx.dir, stdoutPath: log, stderrPath: `${log}.err`, env: cleanEnv() };
  if (kind !== 'sipwarden') {
    const destination = upstreamUri({ host: '127.0.0.1', port: ctx.registrarPort, transport: 'udp' });
    const args = [join(ctx.repo, 'dist', 'scripts', 'bench-drachtio-bare-app.js'), String(adminPort), SECRET, destination, ...(kind === 'middleware' ? [ctx.dbPath] : [])];
    return { app: startProcess(process.execPath, [...ctx.nodeArgs, ...args], files), log };
  }
  const raw: ConfigInput = {
    database: ctx.dbPath,
    log: { level: 'info' },
    sip: {
      mode: 'drachtio',
      drachtio: { host: '127.0.0.1', port: adminPort, secret: SECRET },
      upstream: { host: '127.0.0.1', port: ctx.registrarPort, transport: 'udp' },
    },
  };
  parseConfig(raw, {}, 'bench drachtio config', ctx.dir); // fail here, with every problem, not in the child
  const config = join(ctx.dir, 'sipwarden-drachtio.json');
  writeFileSync(config, `${JSON.stringify(raw, null, 2)}\n`);
  return { app: startProcess(process.execPath, [...ctx.nodeArgs, join(ctx.repo, 'dist', 'src', 'cli', 'bin.js'), 'serve', '--config', config], files), log };
}

/** Polls a log file for a line containing `text`; false when `gaveUp()` or after `ms`. */
async function untilLogged(path: string, text: string, ms: number, gaveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !gaveUp()) {
    if (existsSync(path) && readFileSync(path, 'utf8').includes(text)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function drachtioPath(name: string, kind: AppKind, what: string): PathDefinition {
  return {
    name,
    unavailable: () => {
      const binary = drachtioBinary();
      return binary.found ? undefined : `${binary.reason} (set SIPWARDEN_DRACHTIO to a drachtio-server binary)`;
    },
    async start(ctx) {
      const server = await startDrachtioServer({ secret: SECRET, logLevel: 'notice' });
      const { app, log } = startApp(kind, ctx, server.adminPort);
      const stop = async (): Promise<void> => {
        await Promise.all([app.stop(), server.stop()]);
      };
      // Until the application is connected drachtio-server answers 503 itself; then OPTIONS goes
      // to the application, which proxies it to the registrar.
      const connected = await untilLogged(log, 'connected to drachtio-server', 30_000, () => app.exitStatus() !== undefined);
      const answer = connected ? await probeSipOptions({ host: '127.0.0.1', port: server.sipPort, timeoutMs: 10_000 }) : undefined;
      if (answer === undefined) {
        await stop();
        throw new Error(`${name}: ${connected ? 'no answer to OPTIONS through drachtio-server' : 'the application never connected to drachtio-server'} 127.0.0.1:${server.sipPort}; see ${log}`);
      }
      const path: RunningPath = {
        name,
        target: `127.0.0.1:${server.sipPort}`,
        pid: app.pid,
        companion: { name: 'drachtio-server', pid: server.pid },
        enforces: kind !== 'bare',
        proxies: true,
        describe: () => `drachtio-server pid ${server.pid} 127.0.0.1:${server.sipPort} (log level notice) → ${what} pid ${app.pid}; OPTIONS → ${answer}`,
        report: () => (server.exitStatus() === undefined ? [] : [`${name}: drachtio-server exited during the run: ${JSON.stringify(server.exitStatus())}`]),
        stop,
      };
      return path;
    },
  };
}

/** The drachtio paths, in table order. */
export const DRACHTIO_PATHS: readonly PathDefinition[] = [
  drachtioPath('drachtio', 'sipwarden', 'sipwarden serve (drachtio mode, log level info)'),
  drachtioPath('dr-mw', 'middleware', 'the bare app with sipwarden\'s middleware (createSipwarden, log level info)'),
  drachtioPath('dr-bare', 'bare', 'bare drachtio-srf proxy app'),
];

/** What every drachtio candidate is set against. */
export const REFERENCE_PATH = 'dr-bare';

/**
 * The candidates, in table order, and whether the CPU target is judged on them: the policy in the
 * bare app (dr-mw) is what the target names; serve is a whole sidecar process (its store, reload,
 * lifecycle, metrics and admin port), shown beside it.
 */
export const CANDIDATES: readonly { readonly path: string; readonly what: string; readonly judged: boolean }[] = [
  { path: 'dr-mw', what: "the bare app with sipwarden's middleware", judged: true },
  { path: 'drachtio', what: 'sipwarden serve, drachtio mode', judged: false },
];

/** Two steps run at the same time: a candidate and the reference (the bare app). */
export interface Pair<T> {
  readonly candidate: T;
  readonly reference: T;
}

/** What the drachtio paths measured: the ladder's steps and maxima, and the paired steps the CPU target is judged on. */
export interface DrachtioOutcome extends LadderOutcome {
  readonly pairs: Pair<StepResult>[];
}

/** Pairs per rate a full run adds after the ladder, at FULL_RUN_PAIR_RATES of the rates every path held. */
export const FULL_RUN_PAIRS = 3;
const FULL_RUN_PAIR_RATES = 2;

/**
 * The drachtio paths' REGISTER ladder (probes, confirmations: bench-sip-ladder.ts) at
 * DRACHTIO_RATES or `--drachtio-rates`, after one warm-up step per path at the lowest rate (JIT, drachtio-server's
 * allocator; not a figure); then FULL_RUN_PAIRS paired steps at the lowest rates every path held
 * clean, on which the CPU target is judged. `--drachtio-pairs N`: the pairs alone, N per rate.
 */
export async function drachtioLadder(driver: LoadDriver, paths: readonly RunningPath[], plan: Plan, env: LadderEnv): Promise<DrachtioOutcome> {
  const rates = plan.drachtioRates ?? DRACHTIO_RATES[plan.quick ? 'quick' : 'full'];
  const warmRate = rates[0] ?? DRACHTIO_RATES.quick[0];
  for (const path of paths) env.printRow(await step(driver, path, warmRate, plan.stepSeconds, 'warm-up', env));
  if (plan.drachtioPairs > 0) return { steps: [], maxima: [], pairs: await pairedSteps(driver, paths, rates, plan.drachtioPairs, plan, env) };
  const ladder = await climb(driver, paths, { ...plan, rates: { ...plan.rates, register: rates } }, env);
  const held = Math.min(...paths.map((path) => ladder.maxima.find((m) => m.path === path.name)?.rate ?? 0));
  const pairRates = rates.filter((r) => r <= held).slice(0, FULL_RUN_PAIR_RATES);
  if (pairRates.length === 0) env.print('no rate every drachtio path held clean: no paired steps');
  return { ...ladder, pairs: pairRates.length === 0 ? [] : await pairedSteps(driver, paths, pairRates, FULL_RUN_PAIRS, plan, env) };
}

/**
 * Paired steps: each rate `count` times for each candidate, the candidate and the bare app loaded
 * at the same time (each by its own SIPp, through its own drachtio-server). Run one after the
 * other, the same app measured 130–284 µs per REGISTER from one step to the next on a shared 2-core
 * machine (CPU frequency, neighbours, what else ran on the core between two requests): a pair run
 * at once meets the same machine, so their ratio keeps what the applications themselves cost. Two
 * applications at a time, not three: each pair is the same load as every other. Each path's CPU is
 * read from its own processes; the SIPp and other-CPU columns of these rows cover both.
 */
async function pairedSteps(driver: LoadDriver, paths: readonly RunningPath[], rates: readonly number[], count: number, plan: Plan, env: LadderEnv): Promise<Pair<StepResult>[]> {
  const reference = paths.find((p) => p.name === REFERENCE_PATH);
  const candidates = CANDIDATES.map((c) => paths.find((p) => p.name === c.path)).filter((p): p is RunningPath => p !== undefined);
  if (reference === undefined || candidates.length === 0) {
    env.print(`paired steps need ${REFERENCE_PATH} and one of ${CANDIDATES.map((c) => c.path).join(', ')}: none run`);
    return [];
  }
  const pairs: Pair<StepResult>[] = [];
  env.print(`paired steps: each candidate loaded at the same time as ${REFERENCE_PATH}; the SIPp and other-CPU columns cover both`);
  for (const rate of rates) {
    for (let n = 0; n < count; n++) {
      for (const candidate of candidates) {
        if (Date.now() >= env.deadline) {
          env.print(`time budget reached: drachtio pairs at ${rate}/s not all run`);
          return pairs;
        }
        const [mine, bare] = await Promise.all([
          step(driver, candidate, rate, plan.stepSeconds, 'probe', env),
          step(driver, reference, rate, plan.stepSeconds, 'probe', env),
        ]);
        pairs.push({ candidate: mine, reference: bare });
        env.printRow(mine);
        env.printRow(bare);
        await new Promise((resolve) => setTimeout(resolve, PAIR_SETTLE_MS));
      }
    }
  }
  return pairs;
}

const PAIR_SETTLE_MS = 1500;

/**
 * The paired steps, per candidate and rate: the application's CPU per REGISTER, candidate ÷ bare,
 * of each pair (clean or not): the median and the spread, the same with each drachtio-server
 * counted; then the verdict of each candidate on its medians, the target judged on dr-mw's.
 */
export function drachtioPairSummary(pairs: readonly Pair<StepFigures>[]): string[] {
  const lines = ['REGISTER through drachtio-server, paired steps run at the same time (candidate ÷ bare drachtio-srf app, CPU per REGISTER):'];
  const verdicts: string[] = [];
  for (const candidate of CANDIDATES) {
    const mine = pairs.filter((p) => p.candidate.spec.path === candidate.path);
    if (mine.length === 0) continue;
    lines.push(`  ${candidate.path}: ${candidate.what}`);
    const medians: { rate: number; ratio: number }[] = [];
    for (const rate of [...new Set(mine.map((p) => p.candidate.spec.rate))].sort((a, b) => a - b)) {
      const atRate = mine.filter((p) => p.candidate.spec.rate === rate);
      const app: number[] = [];
      const both: number[] = [];
      for (const { candidate: c, reference: r } of atRate) {
        const a = perRegister(c);
        const b = perRegister(r);
        if (a.app !== null && b.app !== null && b.app > 0) app.push(a.app / b.app);
        if (a.whole !== null && b.whole !== null && b.whole > 0) both.push(a.whole / b.whole);
      }
      const clean = atRate.filter((p) => p.candidate.verdict.clean).length + atRate.filter((p) => p.reference.verdict.clean).length;
      const usOf = (list: readonly StepFigures[]): string => us(median(list.map((s) => s.proxyUsPerCall).filter((v): v is number => v !== null)));
      lines.push(
        `  ${String(rate).padStart(5)}/s  ${app.length} pairs (${clean}/${2 * atRate.length} steps clean): app ${usOf(atRate.map((p) => p.candidate))} / ${usOf(atRate.map((p) => p.reference))} (median); ` +
          `app ratio ${spread(app)}; with drachtio-server ${spread(both)}`,
      );
      const m = median(app);
      if (m !== null) medians.push({ rate, ratio: m });
    }
    verdicts.push(verdictLine(candidate, medians));
  }
  return verdicts.length === 0 ? [...lines, '  no pair to compare'] : [...lines, ...verdicts];
}

/** The target's line for the judged candidate; the same figures, said as not the target, for the others. */
function verdictLine(candidate: (typeof CANDIDATES)[number], medians: readonly { rate: number; ratio: number }[]): string {
  if (medians.length === 0) return `  ${candidate.path}: no pair with CPU figures`;
  const figures = medians.map((j) => `${j.ratio >= 1 ? '+' : ''}${((j.ratio - 1) * 100).toFixed(0)} % at ${j.rate}/s`).join(', ');
  if (!candidate.judged) return `  ${candidate.path} (not the target): adds ${figures} to the bare app's CPU per REGISTER (median of the pairs)`;
  return targetLine(candidate.path, medians.every((j) => j.ratio - 1 <= MAX_POLICY_OVERHEAD), `median of the pairs: ${figures}`);
}

/** The one wording of the CPU target's verdict, for the paired steps and for a ladder without them. */
function targetLine(path: string, met: boolean, basis: string): string {
  return `  target: the policy adds ≤ ${MAX_POLICY_OVERHEAD * 100} % to the bare app's CPU per REGISTER (${path}): ${met ? 'MET' : 'MISSED'} (${basis})`;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `1.23 (1.10–1.40)`: the median and the range of some ratios. */
function spread(ratios: readonly number[]): string {
  const m = median(ratios);
  return m === null ? '-' : `${m.toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

const us = (n: number | null): string => (n === null ? '-' : `${n.toFixed(0)} µs`);

/** What the summary reads of a step. */
export interface StepFigures {
  readonly spec: Pick<StepResult['spec'], 'path' | 'rate' | 'calls'>;
  readonly verdict: Pick<StepResult['verdict'], 'clean'>;
  readonly proxyUsPerCall: number | null;
  readonly companionUsPerCall: number | null;
}

/** CPU per completed REGISTER of a step: the application, its drachtio-server, both. */
function perRegister(s: StepFigures): { app: number | null; server: number | null; whole: number | null } {
  const app = s.proxyUsPerCall;
  const server = s.companionUsPerCall;
  return { app, server, whole: app === null || server === null ? null : app + server };
}

/**
 * The drachtio paths side by side: clean maxima, then for each candidate the CPU per REGISTER of
 * the application, of drachtio-server and of both against the bare app's, at each rate where both
 * were clean (probes and confirming steps alike, the longer step when there are two). Without
 * paired steps, the target is judged here on the judged candidate at the highest such rate.
 */
export function drachtioSummary(maxima: readonly Pick<CleanMax, 'path' | 'rate'>[], steps: readonly StepFigures[], judgedOnPairs = false): string[] {
  const max = (path: string): number => maxima.find((m) => m.path === path)?.rate ?? 0;
  const present = new Set([...maxima.map((m) => m.path), ...steps.map((s) => s.spec.path)]);
  const shown = [...CANDIDATES.filter((c) => present.has(c.path)), { path: REFERENCE_PATH, what: 'bare drachtio-srf proxy app', judged: false }];
  const lines = [
    'REGISTER through drachtio-server — clean maximum (confirmed by a long step), each application behind its own drachtio-server:',
    ...shown.map((c) => `  ${c.path.padEnd(8)} ${String(max(c.path)).padStart(6)} REGISTER/s  ${c.what}`),
  ];
  const cleanAt = (path: string): Map<number, StepFigures> => {
    const out = new Map<number, StepFigures>();
    for (const s of steps) {
      const held = out.get(s.spec.rate);
      if (s.spec.path === path && s.verdict.clean && (held === undefined || s.spec.calls > held.spec.calls)) out.set(s.spec.rate, s);
    }
    return out;
  };
  const bare = cleanAt(REFERENCE_PATH);
  for (const candidate of CANDIDATES.filter((c) => present.has(c.path))) {
    const mine = cleanAt(candidate.path);
    const rates = [...mine.keys()].filter((r) => bare.has(r)).sort((a, b) => a - b);
    if (rates.length === 0) {
      lines.push(`  ${candidate.path}: no rate at which it and ${REFERENCE_PATH} were both clean: no CPU comparison`);
      continue;
    }
    lines.push(`  ${candidate.path}: CPU per completed REGISTER, ${candidate.path} / ${REFERENCE_PATH} (ratio): application | drachtio-server | both`);
    let overhead = Number.NaN;
    let at = 0;
    for (const rate of rates) {
      const a = perRegister(mine.get(rate) as StepFigures);
      const b = perRegister(bare.get(rate) as StepFigures);
      const ratio = (x: number | null, y: number | null): string => (x === null || y === null || y <= 0 ? '-' : (x / y).toFixed(2));
      lines.push(
        `  ${String(rate).padStart(5)}/s  app ${us(a.app)} / ${us(b.app)} (${ratio(a.app, b.app)}) | drachtio-server ${us(a.server)} / ${us(b.server)} | ` +
          `both ${us(a.whole)} / ${us(b.whole)} (${ratio(a.whole, b.whole)})`,
      );
      if (a.app !== null && b.app !== null && b.app > 0) {
        overhead = a.app / b.app - 1;
        at = rate;
      }
    }
    if (!candidate.judged || judgedOnPairs || !Number.isFinite(overhead)) continue;
    lines.push(targetLine(candidate.path, overhead <= MAX_POLICY_OVERHEAD, `+${(overhead * 100).toFixed(0)} % at ${at}/s, the highest rate both were clean`));
  }
  if (judgedOnPairs) lines.push('  (steps run one after the other: the CPU target is judged on the paired steps below)');
  return lines;
}
