/**
 * SIP load benchmark, side by side: `npm run bench:sip` (full: about 20–30 minutes, hard limit
 * --max-minutes, default 40), or `npm run build && node dist/scripts/bench-sip.js --quick`
 * (low rates, short steps: a smoke test of the whole run in a few minutes, not a figure).
 *
 * SIPp load through each path (bench-sip-paths.ts) to one Kamailio registrar:
 *   sidecar    SIPp → `sipwarden serve` (own process, log level info, real policy) → registrar
 *   reference  SIPp → Kamailio as a production stateless proxy (bench-sip-reference.ts) → registrar
 *   direct     SIPp → registrar
 *   drachtio, dr-mw, dr-bare  SIPp → drachtio-server → sipwarden's drachtio mode / the bare app with
 *              sipwarden's middleware / a bare drachtio-srf app → registrar, where a drachtio-server
 *              binary is found (bench-sip-drachtio.ts); their own lower REGISTER ladder, after the
 *              REGISTER ladder
 * Every peer asks for 4 MiB UDP socket buffers. Licence data: bench-sip-db.ts (110,000 numbers in
 * 1,000 projects, app installs, a project to renew, a project for new-install claims).
 *
 * Parts (--only a,b,…; a full run does all but reference-setups, in this order):
 *   register          REGISTER ladder (plain devices): probes, then a long step confirms each
 *                     path's clean maximum (bench-sip-verdict.ts says what clean is)
 *   overload          each proxy at 1.25×, 1.5×, 2× its own clean maximum (runs register first)
 *   invite            INVITE/ACK/BYE ladder (0 ms calls; callees answered by a SIPp UAS)
 *   mixed             mixed REGISTER ladder: plain + digest + mobile app, known and new installs
 *   installs          sidecar only: a burst of new-install claims, then a licence renewal whose
 *                     installs all re-register within seconds, each beside steady plain load
 *   lock              sidecar only: plain REGISTERs and calls while another process holds the
 *                     database write lock, beside the same load without it, and new-install claims
 *                     answered 503 + Retry-After after policy.claimTimeoutMs (bench-sip-lock.ts)
 *   split             in-process parse / policy / forward CPU split (no sockets)
 *   reference-setups  the register ladder over Kamailio set up in several ways (REFERENCE_SETUPS):
 *                     why the reference is set up as it is
 *
 * Options: --paths sidecar,reference,direct,drachtio,dr-mw,dr-bare; --setups a,b (reference-setups:
 * which of them); --rates a,b,… (= --register-rates); --invite-rates; --mixed-rates;
 * --drachtio-rates (the drachtio paths' ladder; `--only register --paths drachtio,dr-mw,dr-bare`
 * runs that ladder alone); --drachtio-pairs N (instead of that ladder, each drachtio rate N times
 * per candidate, the candidate and dr-bare loaded at the same time and compared pair by pair: CPU
 * figures on a shared machine; a full run adds 3 such pairs at the two lowest rates every drachtio
 * path held, and judges the CPU target on dr-mw's);
 * --step-seconds N (probe steps, default 5); --confirm-seconds N (confirming and overload steps,
 * default 15); --overload-multiples 1.25,1.5,2; --claim-rate N (default 2000); --renewal-installs N
 * (default 10000); --burst-seconds N (default 10); --background-rate N (plain REGISTER/s beside the
 * bursts; default half the sidecar's clean maximum); --lock-rate N (the lock part's plain
 * REGISTER/s, default 1000; its calls/s a tenth of it); --lock-seconds N (how long the write lock is
 * held, default 30; its steps last 10 s more); --quick; --cpu-prof (profile the sidecar and
 * the drachtio paths' applications, print where their time goes; profiling costs CPU, so not in
 * runs whose figures are compared); --node-arg=<flag> (extra Node flag for those, repeatable);
 * --max-minutes N.
 * Every row prints the CPU of the path's processes, the registrar, SIPp and everything else on the
 * machine, and the load average: figures taken on a busy machine say so.
 * Everything binds 127.0.0.1; every SIPp run is bounded in calls and time; every process started
 * is stopped, also on error, on the time limit or on Ctrl-C.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { startKamailio, type KamailioHandle } from '../test/support/kamailio.js';
import { missingPeers } from '../test/support/peer-tools.js';
import { startSippServer, type SippServer } from '../test/support/sipp.js';
import { makeTempDir } from '../test/support/temp-dirs.js';
import { DIGEST_PREFIX, populate, writeInjection, type BenchData } from './bench-sip-db.js';
import { DRACHTIO_PATHS, drachtioLadder, drachtioPairSummary, drachtioSummary, type DrachtioOutcome } from './bench-sip-drachtio.js';
import { installBursts, type InstallBurstOutcome } from './bench-sip-installs.js';
import { lockCallRate, lockSteps, lockSummary, stopLockHolder, type LockStep } from './bench-sip-lock.js';
import { loadDrivers } from './bench-sip-drivers.js';
import { climb, overload, type LadderEnv, type LadderOutcome } from './bench-sip-ladder.js';
import { measureSplit } from './bench-sip-micro.js';
import { PATH_DEFINITIONS, kamailioPath, type PathContext, type RunningPath } from './bench-sip-paths.js';
import { BenchUsageError, parsePlan, type LadderLoad, type Plan } from './bench-sip-plan.js';
import { loadAverage, udpReceiveBuffer } from './bench-sip-proc.js';
import { findProfiles, summarizeProfile } from './bench-sip-profile.js';
import { REFERENCE_SETUPS } from './bench-sip-reference.js';
import { LEGEND, header, ladderSummary, microLines, overloadSummary, row, type CleanMax } from './bench-sip-report.js';
import { CLAIM_TIMEOUT_MS, UDP_BUFFER_BYTES } from './bench-sip-sidecar.js';
import { runStep, type StepResult } from './bench-sip-step.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/scripts → the repository. */
const REPO = resolve(HERE, '..', '..');
const SIPP_DIR = join(REPO, 'test', 'fixtures', 'sipp');
const scenario = (name: `${string}.xml`): `${string}.xml` => `${join(SIPP_DIR, name.slice(0, -4))}.xml`;
const BIN_JS = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const INVITE_ROWS = 20_000;
const PREFILL_RATE = 4000;

const t0 = Date.now();
const elapsed = (): string => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
const say = (text: string): void => console.log(text);
const progress = (text: string): void => console.log(`${elapsed()} ${text}`);

interface Peers {
  uas: SippServer | null;
  registrar: KamailioHandle | null;
  paths: RunningPath[];
  /** The drachtio paths: their own ladder (bench-sip-drachtio.ts). */
  drachtio: RunningPath[];
}

async function startPeers(p: Plan, ctx: Omit<PathContext, 'registrarPort'>, peers: Peers): Promise<void> {
  if (p.parts.includes('invite') || p.parts.includes('lock')) {
    peers.uas = await startSippServer({
      scenario: scenario('uas.xml'),
      calls: 100_000_000,
      timeoutSec: p.maxMinutes * 60,
      extraArgs: ['-buff_size', String(UDP_BUFFER_BYTES), '-max_recv_loops', '10000', '-max_sched_loops', '10000'],
    });
    say(`UAS        SIPp uas.xml (200 only) pid ${peers.uas.pid} 127.0.0.1:${peers.uas.port}`);
  }
  // DESIGN.md §5: -m 2048 for the registrar under INVITE load; its unregistered callees go to the UAS.
  peers.registrar = await startKamailio({
    config: 'registrar',
    sharedMemMb: 2048,
    maxBuffer: UDP_BUFFER_BYTES,
    debug: 1,
    authPrefix: DIGEST_PREFIX,
    ...(peers.uas ? { fallbackTo: `127.0.0.1:${peers.uas.port}` } : {}),
  });
  const reg = peers.registrar;
  say(`registrar  Kamailio pid ${reg.pid} 127.0.0.1:${reg.port}, debug=1, 2 UDP workers, -m 2048, digest for numbers ${DIGEST_PREFIX}…, SO_RCVBUF ${udpReceiveBuffer(reg.port)}`);
  const full = { ...ctx, registrarPort: reg.port };
  const definitions = p.parts.includes('reference-setups')
    ? REFERENCE_SETUPS.filter((s) => p.setups.includes(s.name)).map(kamailioPath)
    : PATH_DEFINITIONS.filter((d) => p.paths.includes(d.name));
  const drachtio = p.parts.includes('register') ? DRACHTIO_PATHS.filter((d) => p.paths.includes(d.name)) : [];
  for (const d of [...definitions, ...drachtio]) {
    const why = d.unavailable();
    if (why !== undefined) {
      say(`${d.name.padEnd(10)} SKIPPED: ${why}`);
      continue;
    }
    const path = await d.start(full);
    (drachtio.includes(d) ? peers.drachtio : peers.paths).push(path);
    say(`${path.name.padEnd(10)} ${path.describe()}`);
  }
}

async function stopPeers(peers: Peers): Promise<void> {
  stopLockHolder();
  const stops: Promise<unknown>[] = [...peers.paths, ...peers.drachtio].map((path) => path.stop().catch((err: unknown) => console.error(`stopping ${path.name}: ${String(err)}`)));
  if (peers.registrar) stops.push(peers.registrar.stop().catch((err: unknown) => console.error(`stopping the registrar: ${String(err)}`)));
  if (peers.uas) stops.push(peers.uas.stop().catch((err: unknown) => console.error(`stopping the UAS: ${String(err)}`)));
  await Promise.all(stops);
  peers.paths = [];
  peers.drachtio = [];
  peers.registrar = peers.uas = null;
}

/** Registers every number once, through the sidecar when there is one (it warms its JIT too), else straight to the registrar, so no measured path pays the registrar's first inserts. */
async function prefill(data: BenchData, peers: Peers, env: LadderEnv): Promise<void> {
  const path = peers.paths.find((q) => q.enforces);
  const name = path?.name ?? 'registrar';
  progress(`prefill: ${data.registerRows} REGISTERs via ${name} at ${PREFILL_RATE}/s (warm-up, not a figure)`);
  const r = await runStep({
    path: name, load: 'register', phase: 'warm-up', target: path?.target ?? `127.0.0.1:${env.registrarPort}`, rate: PREFILL_RATE, calls: data.registerRows,
    scenario: scenario('bench-register.xml'), injection: data.registerCsv, proxyPid: path?.pid ?? null, registrarPid: env.registrarPid, registrarPort: env.registrarPort,
    expectedRefused: path ? data.registerRefused : 0, sippBufferBytes: UDP_BUFFER_BYTES,
  });
  env.printRow(r);
}

interface Results {
  ladders: Partial<Record<LadderLoad, LadderOutcome>>;
  overload: StepResult[];
  setups: LadderOutcome | null;
  installs: InstallBurstOutcome | null;
  lock: LockStep[];
  drachtio: DrachtioOutcome | null;
}

async function runParts(p: Plan, data: BenchData, peers: Peers, env: LadderEnv, dir: string, dbPath: string, token: string, results: Results): Promise<void> {
  const db = openDatabase(dbPath, { readonly: true });
  try {
    const drive = loadDrivers(data, dir, db, scenario, progress);
    const ladder = async (load: LadderLoad, paths: readonly RunningPath[]): Promise<LadderOutcome> => {
      say('');
      progress(`${load.toUpperCase()} ladder over ${paths.map((q) => q.name).join(', ')}: probes ${p.stepSeconds} s, confirmations ${p.confirmSeconds} s; load average ${loadAverage()}`);
      say(header());
      return climb(drive[load], paths, p, env);
    };
    for (const part of p.parts) {
      if (part === 'register' || part === 'invite' || part === 'mixed') {
        // `--paths drachtio,dr-bare`: only the drachtio ladder below.
        if (peers.paths.length > 0 || part !== 'register') results.ladders[part] = await ladder(part, peers.paths);
        if (part === 'register' && peers.drachtio.length > 0) {
          say('');
          progress(`REGISTER ladder through drachtio-server over ${peers.drachtio.map((q) => q.name).join(', ')}; load average ${loadAverage()}`);
          say(header());
          results.drachtio = await drachtioLadder(drive.register, peers.drachtio, p, env);
        }
      } else if (part === 'reference-setups') {
        results.setups = await ladder('register', peers.paths);
      } else if (part === 'overload') {
        say('');
        progress(`REGISTER overload: ${p.overloadMultiples.map((m) => `${m}×`).join(', ')} each proxy's clean maximum, ${p.confirmSeconds} s steps; load average ${loadAverage()}`);
        say(header());
        results.overload = await overload(drive.register, peers.paths, results.ladders.register?.maxima ?? [], p, env);
      } else if (part === 'installs') {
        const sidecar = peers.paths.find((q) => q.name === 'sidecar');
        if (!sidecar?.logLines) {
          say('installs: needs the sidecar path; skipped');
          continue;
        }
        const cleanMax = results.ladders.register?.maxima.find((m) => m.path === 'sidecar')?.rate ?? 0;
        const backgroundRate = p.backgroundRate > 0 ? p.backgroundRate : cleanMax > 0 ? Math.round(cleanMax / 2) : 1000;
        say('');
        progress(`INSTALLS: claims and renewal bursts through the sidecar; load average ${loadAverage()}`);
        say(header());
        results.installs = await installBursts({
          sidecar, data, dir, dbPath, token, binJs: BIN_JS, env, backgroundRate,
          claimRate: p.claimRate, claims: claimsOf(p), renewalInstalls: p.renewalInstalls, burstSeconds: p.burstSeconds,
          mixedScenario: scenario('bench-mixed-register.xml'), registerScenario: scenario('bench-register.xml'),
          logLines: sidecar.logLines,
        });
      } else if (part === 'lock') {
        const sidecar = peers.paths.find((q) => q.name === 'sidecar');
        if (!sidecar) {
          say('lock: needs the sidecar path; skipped');
          continue;
        }
        say('');
        progress(`LOCK: licensed traffic through the sidecar while another process holds the database write lock, beside the same load without it; load average ${loadAverage()}`);
        say(header());
        results.lock = await lockSteps({
          sidecar, data, dir, dbPath, env, rate: p.lockRate, lockSeconds: p.lockSeconds, claimTimeoutMs: CLAIM_TIMEOUT_MS,
          registerScenario: scenario('bench-register.xml'), inviteScenario: scenario('bench-uac-invite.xml'), claimScenario: scenario('bench-claim.xml'),
        });
      }
    }
  } finally {
    db.close();
  }
}

const claimsOf = (p: Plan): number => Math.round(p.claimRate * p.burstSeconds);

function summarize(p: Plan, results: Results): void {
  say('');
  say(`SUMMARY (load average at the end ${loadAverage()}, ${availableParallelism()} CPUs, total ${((Date.now() - t0) / 60_000).toFixed(1)} min)`);
  for (const load of ['register', 'invite', 'mixed'] as const) {
    const l = results.ladders[load];
    if (l) for (const line of ladderSummary(load, l.maxima)) say(line);
  }
  const maxima: CleanMax[] = results.ladders.register?.maxima ?? [];
  if (results.overload.length > 0) for (const line of overloadSummary(results.overload, maxima)) say(line);
  if (results.setups) {
    say('Reference setups (Kamailio stateless proxy, REGISTER):');
    for (const s of REFERENCE_SETUPS.filter((x) => p.setups.includes(x.name))) say(`  ${s.name.padEnd(12)} ${s.description}`);
    for (const line of ladderSummary('register', results.setups.maxima)) say(line);
  }
  if (results.drachtio) {
    const { maxima, steps, pairs } = results.drachtio;
    const lines = [...(p.drachtioPairs > 0 ? [] : drachtioSummary(maxima, steps, pairs.length > 0)), ...(pairs.length > 0 ? drachtioPairSummary(pairs) : [])];
    for (const line of lines) say(line);
  }
  if (results.installs) {
    say('App-install bursts through the sidecar (clean = as the ladders, with 0 refusals expected of the bursts):');
    for (const s of results.installs.steps) {
      const m = s.measure;
      say(
        `  ${s.spec.load.padEnd(9)} ${s.spec.phase.padEnd(10)} ${m.successful + m.failed} calls at ${s.spec.rate}/s: ${m.failed} failed, 403 ${m.refused}/${s.spec.expectedRefused}, ` +
          `503 ${m.shed}, done ${m.completedPerS.toFixed(0)}/s, p99 ${m.p99Ms} ms: ${s.verdict.clean ? 'clean' : `NOT clean (${s.verdict.notes.join('; ')})`}`,
      );
    }
    const r = results.installs.renewal;
    if (r) say(`  renewal CLI ${r.cliExit === 0 ? 'ok' : `exit ${r.cliExit}`} in ${r.cliMs.toFixed(0)} ms; sidecar reload ${r.reloadMs === null ? 'not seen' : `${r.reloadMs.toFixed(0)} ms`} after it`);
  }
  if (results.lock.length > 0) for (const line of lockSummary(results.lock, CLAIM_TIMEOUT_MS)) say(line);
  if (p.quick) say('--quick: low rates and short steps, a smoke test; not figures to publish.');
  else if (p.confirmSeconds < 15) say(`--confirm-seconds ${p.confirmSeconds}: clean maxima confirmed by steps shorter than 15 s; not figures to publish.`);
}

async function main(): Promise<void> {
  const p = parsePlan(process.argv.slice(2), [...PATH_DEFINITIONS, ...DRACHTIO_PATHS].map((d) => d.name), REFERENCE_SETUPS.map((s) => s.name));
  const missing = missingPeers();
  if (missing) throw new Error(`cannot run: ${missing} (install kamailio and sip-tester, test/support/README.md)`);
  say(`sipwarden SIP benchmark${p.quick ? ' (--quick)' : ''} — Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAverage()}`);
  say(`parts: ${p.parts.join(', ')}; paths: ${p.parts.includes('reference-setups') ? p.setups.join(', ') : p.paths.join(', ')}`);
  say(`rates: REGISTER ${p.rates.register.join('/')}; INVITE ${p.rates.invite.join('/')}; mixed ${p.rates.mixed.join('/')}; probe ${p.stepSeconds} s, confirm/overload ${p.confirmSeconds} s; UDP buffers ${UDP_BUFFER_BYTES} B everywhere`);
  if (p.parts.includes('lock')) say(`lock: ${p.lockRate} REGISTER/s and ${lockCallRate(p.lockRate)} calls/s, write lock held ${p.lockSeconds} s, policy.claimTimeoutMs ${CLAIM_TIMEOUT_MS}`);

  const dir = makeTempDir('bench-sip');
  const dbPath = join(dir, 'bench.db');
  const t = performance.now();
  const populated = populate(dbPath, Date.now(), { renewalInstalls: p.renewalInstalls, burstInstalls: claimsOf(p) });
  const data = writeInjection(dir, INVITE_ROWS);
  progress(`database: ${populated.numbers} numbers in ${((performance.now() - t) / 1000).toFixed(1)} s; REGISTER file ${data.registerRows} numbers (${data.registerRefused} in expired projects)`);

  const peers: Peers = { uas: null, registrar: null, paths: [], drachtio: [] };
  let stopping: Promise<void> | null = null;
  const cleanup = (): Promise<void> => (stopping ??= stopPeers(peers));
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every process started`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const hardLimitMs = p.maxMinutes * 60_000;
  const guard = setTimeout(() => {
    console.error(`time limit of ${p.maxMinutes} minutes reached: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, hardLimitMs);

  const results: Results = { ladders: {}, overload: [], setups: null, installs: null, lock: [], drachtio: null };
  const loads = p.parts.filter((x) => x !== 'split');
  if (loads.length > 0) {
    try {
      const nodeArgs = [...p.nodeArgs, ...(p.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'profile')] : [])];
      await startPeers(p, { repo: REPO, dir, dbPath, udpBufferBytes: UDP_BUFFER_BYTES, nodeArgs }, peers);
      const env: LadderEnv = {
        registrarPid: (peers.registrar as KamailioHandle).pid,
        registrarPort: (peers.registrar as KamailioHandle).port,
        udpBufferBytes: UDP_BUFFER_BYTES,
        // Leave a margin under the hard limit for the last step, the stops and the split.
        deadline: t0 + hardLimitMs - 3 * 60_000,
        print: progress,
        printRow: (r, cleanMax) => say(row(r, cleanMax)),
      };
      await prefill(data, peers, env);
      await runParts(p, data, peers, env, dir, dbPath, populated.token, results);
      say('');
      for (const line of LEGEND) say(line);
      for (const path of [...peers.paths, ...peers.drachtio]) for (const line of path.report()) say(line);
    } finally {
      progress('stopping peers');
      await cleanup();
    }
  }

  if (p.parts.includes('split')) {
    say('');
    progress(`in-process split (load average ${loadAverage()})`);
    const micro = measureSplit(dbPath, data.sampleNumbers, data.sampleCalls, Date.now());
    const best = results.ladders.register?.maxima.find((m) => m.path === 'sidecar')?.confirmedBy ?? null;
    for (const line of microLines(micro, best?.proxyUsPerCall ?? null)) say(line);
  }

  if (p.cpuProf) reportProfile(dir, results);
  summarize(p, results);
  clearTimeout(guard);
}

/** The Node processes of the paths run with the extra Node flags, so with `--cpu-prof`: one profile each. */
const PROFILED_PATHS = ['sidecar', 'drachtio', 'dr-mw', 'dr-bare'] as const;

function reportProfile(dir: string, results: Results): void {
  const profiles = join(dir, 'profile');
  const all = [
    ...Object.values(results.ladders).flatMap((l) => l.steps),
    ...results.overload,
    ...(results.installs?.steps ?? []),
    ...results.lock.flatMap((s) => [s.register, s.calls, s.claims]),
    ...(results.drachtio?.steps ?? []),
    ...(results.drachtio?.pairs ?? []).flatMap((pair) => [pair.candidate, pair.reference]),
  ];
  for (const name of PROFILED_PATHS) {
    const steps = all.filter((r) => r.spec.path === name);
    const pid = steps[0]?.spec.proxyPid;
    if (pid === undefined || pid === null) continue;
    const files = existsSync(profiles) ? findProfiles(profiles, pid) : [];
    if (files.length === 0) {
      say('');
      say(`no CPU profile was written by the ${name} path's process (pid ${pid})`);
      continue;
    }
    const windows = steps.map((r) => r.window);
    for (const { path, threadId } of files) {
      const prof = summarizeProfile(path, windows);
      const kept = join(tmpdir(), `sipwarden-bench-sip-${name}-${Date.now()}-thread${threadId}.cpuprofile`);
      copyFileSync(path, kept);
      const thread = threadId === 0 ? 'main thread (the event loop)' : `worker thread ${threadId} (the install writer)`;
      say('');
      say(`${name} CPU profile, ${thread} (kept as ${kept}): ${windows.length} ${name} steps (start-up and prefill left out), busy ${(prof.busyMs / 1000).toFixed(1)} s, idle ${(prof.idleMs / 1000).toFixed(1)} s; self time by area:`);
      for (const a of prof.areas.slice(0, 14)) say(`  ${(a.share * 100).toFixed(1).padStart(5)} %  ${a.area}`);
      say('top functions (self time):');
      for (const f of prof.topFunctions) say(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof BenchUsageError) {
      console.error(`bench:sip: ${err.message}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
