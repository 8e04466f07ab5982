/**
 * Ladders of `bench:sip`. For each load: short probe steps at rising rates, every path at one rate
 * before the next rate (the order rotating, so the paths see the same machine), a path leaving the
 * ladder at its first unclean probe; then each path's highest clean probe is confirmed by a long
 * step (≥ 15 s in a full run), stepping down through its clean probes when the long step is not
 * clean. The overload ladder then runs each proxy at multiples of its own confirmed maximum.
 */
import type { LadderLoad, Plan } from './bench-sip-plan.js';
import type { RunningPath } from './bench-sip-paths.js';
import type { CleanMax } from './bench-sip-report.js';
import { runStep, type StepPhase, type StepResult, type StepSpec } from './bench-sip-step.js';
import { confirmationOrder } from './bench-sip-verdict.js';

/** How a load is driven at `rate` for `calls` calls through `path`: scenario, rows, the 403s to expect. */
export interface LoadDriver {
  readonly load: LadderLoad;
  prepare(path: RunningPath, rate: number, calls: number): StepInput;
}

export interface StepInput {
  readonly scenario: `${string}.xml`;
  readonly injection: string;
  readonly expectedRefused: number;
}

export interface LadderEnv {
  readonly registrarPid: number;
  readonly registrarPort: number;
  readonly udpBufferBytes: number;
  /** Epoch ms after which no new step starts. */
  readonly deadline: number;
  print(line: string): void;
  /** Printed per step (the verdict cell of an overload row needs the path's clean maximum). */
  printRow(step: StepResult, cleanMax?: number): void;
}

/** Confirmation attempts per path before it is given a clean maximum of 0. */
const MAX_CONFIRMATIONS = 3;
const SETTLE_MS = 1500;
/** After a collapse the registrar and SIPp's leftovers need longer to drain. */
const OVERLOAD_SETTLE_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rotate<T>(items: readonly T[], by: number): T[] {
  return items.map((_, k) => items[(k + by) % items.length] as T);
}

/** One step of `rate` × `seconds` calls through `path`. */
export async function step(driver: LoadDriver, path: RunningPath, rate: number, seconds: number, phase: StepPhase, env: LadderEnv): Promise<StepResult> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const input = driver.prepare(path, rate, calls);
  const spec: StepSpec = {
    path: path.name,
    load: driver.load,
    phase,
    target: path.target,
    rate,
    calls,
    proxyPid: path.pid,
    ...(path.companion ? { companion: path.companion } : {}),
    registrarPid: env.registrarPid,
    registrarPort: env.registrarPort,
    sippBufferBytes: env.udpBufferBytes,
    ...input,
  };
  return runStep(spec);
}

function outOfTime(env: LadderEnv, what: string): boolean {
  if (Date.now() < env.deadline) return false;
  env.print(`time budget reached: ${what} not run`);
  return true;
}

export interface LadderOutcome {
  readonly steps: StepResult[];
  readonly maxima: CleanMax[];
}

export async function climb(driver: LoadDriver, paths: readonly RunningPath[], plan: Plan, env: LadderEnv): Promise<LadderOutcome> {
  const rates = plan.rates[driver.load];
  const steps: StepResult[] = [];
  const alive = new Set(paths.map((p) => p.name));
  probing: for (const [i, rate] of rates.entries()) {
    for (const path of rotate(paths, i)) {
      if (!alive.has(path.name)) continue;
      if (outOfTime(env, `${driver.load} probe of ${path.name} at ${rate}/s`)) break probing;
      const r = await step(driver, path, rate, plan.stepSeconds, 'probe', env);
      steps.push(r);
      env.printRow(r);
      if (!r.verdict.clean) alive.delete(path.name);
      await sleep(SETTLE_MS);
    }
    if (alive.size === 0) break;
  }

  const pending = new Map(paths.map((p) => [p.name, confirmationOrder(steps.filter((s) => s.spec.path === p.name && s.spec.phase === 'probe').map((s) => ({ rate: s.spec.rate, clean: s.verdict.clean }))).slice(0, MAX_CONFIRMATIONS)]));
  const confirmed = new Map<string, StepResult>();
  for (let round = 0; round < MAX_CONFIRMATIONS; round++) {
    for (const path of rotate(paths, round)) {
      if (confirmed.has(path.name)) continue;
      const rate = pending.get(path.name)?.shift();
      if (rate === undefined) continue;
      if (outOfTime(env, `${driver.load} confirmation of ${path.name} at ${rate}/s`)) break;
      const r = await step(driver, path, rate, plan.confirmSeconds, 'confirm', env);
      steps.push(r);
      env.printRow(r);
      if (r.verdict.clean) confirmed.set(path.name, r);
      await sleep(SETTLE_MS);
    }
  }
  const top = Math.max(...rates);
  const maxima = paths.map((p): CleanMax => {
    const c = confirmed.get(p.name) ?? null;
    return { path: p.name, rate: c?.spec.rate ?? 0, confirmedBy: c, atTop: c !== null && c.spec.rate >= top };
  });
  return { steps, maxima };
}

/** Each proxy at `plan.overloadMultiples` × its own confirmed clean maximum, for a long step each. */
export async function overload(driver: LoadDriver, paths: readonly RunningPath[], maxima: readonly CleanMax[], plan: Plan, env: LadderEnv): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  const max = new Map(maxima.map((m) => [m.path, m.rate]));
  const loaded = paths.filter((p) => p.proxies && (max.get(p.name) ?? 0) > 0);
  for (const p of paths.filter((q) => q.proxies && !loaded.includes(q))) env.print(`overload: ${p.name} has no confirmed clean maximum; skipped`);
  for (const [i, multiple] of plan.overloadMultiples.entries()) {
    for (const path of rotate(loaded, i)) {
      const cleanMax = max.get(path.name) as number;
      const rate = Math.round(cleanMax * multiple);
      if (outOfTime(env, `overload of ${path.name} at ${rate}/s`)) return steps;
      const r = await step(driver, path, rate, plan.confirmSeconds, 'overload', env);
      steps.push(r);
      env.printRow(r, cleanMax);
      await sleep(OVERLOAD_SETTLE_MS);
    }
  }
  return steps;
}
