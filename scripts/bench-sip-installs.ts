/**
 * App-install bursts through the sidecar (issue 8, item 6), each beside a steady plain REGISTER
 * load that must stay clean:
 *   claims   new installs of the `burst` project at --claim-rate for --burst-seconds, every one
 *            taking a free app licence (the target: 2,000/s beside plain traffic at half the clean
 *            maximum);
 *   renewal  the `renewal` project (licence expired, its installs released after the lapse) is
 *            renewed by `sipwarden licenses set renewal --valid-until …` as an operator would, and
 *            once the sidecar has reloaded, all its installs re-register within --burst-seconds (what
 *            the license.renewed push produces), each claiming its licence again.
 * Before the renewal a sample of those installs is refused (403, licence expired): the project
 * really was closed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchData } from './bench-sip-db.js';
import { BURST_FROM, BURST_GROUP, BURST_GROUP_ID, RENEWAL_FROM, RENEWAL_GROUP, RENEWAL_GROUP_ID } from './bench-sip-db.js';
import type { LadderEnv } from './bench-sip-ladder.js';
import { writeMixedCsv, type MixedRow } from './bench-sip-mixed.js';
import type { RunningPath } from './bench-sip-paths.js';
import { runConcurrentSteps, runStep, type StepResult, type StepSpec } from './bench-sip-step.js';

export interface InstallBurstContext {
  readonly sidecar: RunningPath;
  readonly data: BenchData;
  readonly dir: string;
  readonly dbPath: string;
  readonly token: string;
  /** dist/src/cli/bin.js */
  readonly binJs: string;
  readonly claimRate: number;
  readonly claims: number;
  readonly renewalInstalls: number;
  readonly burstSeconds: number;
  readonly backgroundRate: number;
  readonly mixedScenario: `${string}.xml`;
  readonly registerScenario: `${string}.xml`;
  readonly env: LadderEnv;
  /** The sidecar's JSON log so far. */
  logLines(): readonly Record<string, unknown>[];
}

export interface RenewalFacts {
  /** How long the CLI took, and from its exit until the sidecar logged its reload. */
  readonly cliMs: number;
  readonly reloadMs: number | null;
  readonly cliExit: number | null;
  readonly cliError: string;
}

export interface InstallBurstOutcome {
  readonly steps: StepResult[];
  readonly renewal: RenewalFacts | null;
}

const RELOAD_WAIT_MS = 5000;
const SAMPLE_BEFORE = 200;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function appRows(from: number, count: number, group: number): MixedRow[] {
  return Array.from({ length: count }, (_, i) => ({ kind: 'app' as const, k: from + i, install: from + i, isNew: true, group }));
}

function spec(ctx: InstallBurstContext, load: string, phase: StepSpec['phase'], rate: number, calls: number, injection: string, scenario: `${string}.xml`, expectedRefused: number): StepSpec {
  return {
    path: ctx.sidecar.name, load, phase, target: ctx.sidecar.target, rate, calls, scenario, injection,
    proxyPid: ctx.sidecar.pid, registrarPid: ctx.env.registrarPid, registrarPort: ctx.env.registrarPort, expectedRefused, sippBufferBytes: ctx.env.udpBufferBytes,
  };
}

/** A burst and the plain background load over the same seconds. */
async function burstBeside(ctx: InstallBurstContext, burst: StepSpec): Promise<StepResult[]> {
  const calls = Math.max(1, Math.round(ctx.backgroundRate * (burst.calls / burst.rate)));
  const background = spec(ctx, 'register', 'background', ctx.backgroundRate, calls, ctx.data.registerCsv, ctx.registerScenario, ctx.data.refusedWithin(calls));
  const results = await runConcurrentSteps([burst, background]);
  for (const r of results) ctx.env.printRow(r);
  return results;
}

function renew(ctx: InstallBurstContext): { exit: number | null; ms: number; error: string } {
  const until = new Date(Date.now() + 365 * 86_400_000).toISOString();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_')));
  const t = performance.now();
  const r = spawnSync(process.execPath, [ctx.binJs, '--db', ctx.dbPath, '--token', ctx.token, 'licenses', 'set', RENEWAL_GROUP, '--valid-until', until], {
    env, encoding: 'utf8', timeout: 30_000,
  });
  return { exit: r.status, ms: performance.now() - t, error: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().slice(0, 300) };
}

async function waitForReload(ctx: InstallBurstContext, after: number): Promise<number | null> {
  const t = performance.now();
  while (performance.now() - t < RELOAD_WAIT_MS) {
    if (ctx.logLines().slice(after).some((l) => l.msg === 'license data reloaded')) return performance.now() - t;
    await sleep(20);
  }
  return null;
}

export async function installBursts(ctx: InstallBurstContext): Promise<InstallBurstOutcome> {
  const steps: StepResult[] = [];
  if (Date.now() < ctx.env.deadline) {
    const rows = appRows(BURST_FROM, ctx.claims, BURST_GROUP_ID);
    const csv = join(ctx.dir, 'claims.csv');
    writeMixedCsv(csv, rows);
    ctx.env.print(`claims burst: ${ctx.claims} new installs of project '${BURST_GROUP}' at ${ctx.claimRate}/s beside ${ctx.backgroundRate} plain REGISTER/s`);
    steps.push(...(await burstBeside(ctx, spec(ctx, 'claims', 'burst', ctx.claimRate, ctx.claims, csv, ctx.mixedScenario, 0))));
    await sleep(2000);
  }

  if (Date.now() >= ctx.env.deadline) return { steps, renewal: null };
  const rows = appRows(RENEWAL_FROM, ctx.renewalInstalls, RENEWAL_GROUP_ID);
  const before = join(ctx.dir, 'renewal-before.csv');
  const sample = Math.min(SAMPLE_BEFORE, rows.length);
  writeMixedCsv(before, rows.slice(0, sample));
  const check = await runStep(spec(ctx, 'renewal', 'warm-up', Math.min(200, sample), sample, before, ctx.mixedScenario, sample));
  ctx.env.printRow(check);
  steps.push(check);
  const logMark = ctx.logLines().length;
  const cli = renew(ctx);
  const reloadMs = cli.exit === 0 ? await waitForReload(ctx, logMark) : null;
  ctx.env.print(
    `renewal: 'sipwarden licenses set ${RENEWAL_GROUP} --valid-until …' exit ${cli.exit} in ${cli.ms.toFixed(0)} ms` +
      (cli.exit === 0 ? `; the sidecar logged its reload ${reloadMs === null ? `— not within ${RELOAD_WAIT_MS} ms` : `${reloadMs.toFixed(0)} ms`} after the CLI exited` : `: ${cli.error}`),
  );
  const csv = join(ctx.dir, 'renewal.csv');
  writeMixedCsv(csv, rows);
  const rate = Math.max(1, Math.round(ctx.renewalInstalls / ctx.burstSeconds));
  ctx.env.print(`renewal burst: ${ctx.renewalInstalls} installs re-register at ${rate}/s beside ${ctx.backgroundRate} plain REGISTER/s`);
  steps.push(...(await burstBeside(ctx, spec(ctx, 'renewal', 'burst', rate, ctx.renewalInstalls, csv, ctx.mixedScenario, 0))));
  return { steps, renewal: { cliMs: cli.ms, reloadMs, cliExit: cli.exit, cliError: cli.error } };
}
