/**
 * SIP load benchmark: `npm run bench:sip` (full, bounded under 15 minutes) or
 * `npm run build && node dist/scripts/bench-sip.js --quick` (two low rates per path, about a minute).
 *
 * SIPp REGISTER load, then INVITE/ACK/BYE load (0 ms calls), at increasing rates over three paths
 * in the same run, against one Kamailio registrar/relay:
 *   sidecar    SIPp → `sipwarden serve` (its own process, log level info, real policy) → registrar
 *   reference  SIPp → Kamailio stateless forwarding proxy → registrar
 *   direct     SIPp → registrar
 * The sidecar and the reference proxy both ask for 4 MiB UDP socket buffers (recvBufferSize /
 * Kamailio maxbuffer); so do the registrar and SIPp (-buff_size), the same on every path.
 * Licence data: 100,000 numbers in 1,000 projects (bench-sip-db.ts); REGISTERs use 90,000 of them
 * (1 % in expired projects: refused by the sidecar), INVITEs go to the other 10,000, which the
 * registrar relays to its fallback, a SIPp UAS answering 200 only (DESIGN.md §5).
 *
 * Rates are run rate by rate, each path in turn (the order rotates), so that the paths see the
 * same machine; a path's ladder stops after its first unclean step. At the end: highest clean rate
 * per path, ratios against the targets, and the in-process parse / policy / forward split.
 *
 * Options: --quick; --only register|invite|split (split: the in-process measurement alone);
 * --paths sidecar,reference,direct;
 * --register-rates a,b,..; --invite-rates a,b,..; --cpu-prof (profile the sidecar, print where its
 * time goes; use with one step); --node-arg=<flag> (extra Node flag for the sidecar, repeatable).
 * Everything binds 127.0.0.1; every process started is stopped, also on error or Ctrl-C.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKamailio, type KamailioHandle } from '../test/support/kamailio.js';
import { missingPeers } from '../test/support/peer-tools.js';
import { freePort } from '../test/support/ports.js';
import { startSippServer, type SippServer } from '../test/support/sipp.js';
import { makeTempDir } from '../test/support/temp-dirs.js';
import { populate, writeInjection, NUMBERS, GROUPS, type BenchData } from './bench-sip-db.js';
import { measureSplit } from './bench-sip-micro.js';
import { loadAverage, sampleGroup } from './bench-sip-proc.js';
import { findProfile, summarizeProfile } from './bench-sip-profile.js';
import { header, LEGEND, microLines, row, summary } from './bench-sip-report.js';
import { startSidecarProcess, UDP_BUFFER_BYTES, type SidecarProcess } from './bench-sip-sidecar.js';
import { runStep, type LoadKind, type PathName, type StepResult } from './bench-sip-step.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/scripts → the repository. */
const REPO = resolve(HERE, '..', '..');
const SIPP_DIR = join(REPO, 'test', 'fixtures', 'sipp');
const scenario = (name: `${string}.xml`): `${string}.xml` => `${join(SIPP_DIR, name.slice(0, -4))}.xml`;
const ALL_PATHS: readonly PathName[] = ['sidecar', 'reference', 'direct'];
const HARD_LIMIT_MS = 15 * 60_000;
const LADDER_BUDGET_MS = 12 * 60_000;
const SETTLE_MS = 1500;

interface Plan {
  readonly quick: boolean;
  readonly kinds: readonly LoadKind[];
  readonly paths: readonly PathName[];
  readonly rates: Record<LoadKind, readonly number[]>;
  readonly stepCalls: (kind: LoadKind, rate: number) => number;
  readonly prefillRate: number;
  readonly cpuProf: boolean;
  readonly nodeArgs: readonly string[];
}

function rateList(text: string | undefined, fallback: readonly number[]): readonly number[] {
  if (text === undefined) return fallback;
  const rates = text.split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw new Error(`bad rate list: ${text}`);
  return rates;
}

function plan(argv: readonly string[]): Plan {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      paths: { type: 'string' },
      'register-rates': { type: 'string' },
      'invite-rates': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  const quick = values.quick ?? false;
  const only = values.only;
  if (only !== undefined && only !== 'register' && only !== 'invite' && only !== 'split') throw new Error(`--only register|invite|split, got ${only}`);
  const paths = values.paths === undefined ? ALL_PATHS : values.paths.split(',').map((p) => p.trim());
  for (const p of paths) if (!ALL_PATHS.includes(p as PathName)) throw new Error(`unknown path ${p}; paths: ${ALL_PATHS.join(',')}`);
  return {
    quick,
    kinds: only === undefined ? ['register', 'invite'] : only === 'split' ? [] : [only],
    paths: paths as PathName[],
    rates: {
      register: rateList(values['register-rates'], quick ? [500, 1000] : [2000, 5000, 8000, 10000, 12000, 14000, 16000, 18000, 20000, 22000, 24000]),
      invite: rateList(values['invite-rates'], quick ? [100, 200] : [500, 1000, 2000, 3000, 4000, 5000]),
    },
    // Full: 5 s per step, at most 80,000 REGISTERs / 20,000 calls; quick: 2 s.
    stepCalls: (kind, rate) => (quick ? rate * 2 : Math.min(rate * 5, kind === 'register' ? 80_000 : 20_000)),
    prefillRate: quick ? 1000 : 4000,
    cpuProf: values['cpu-prof'] ?? false,
    nodeArgs: values['node-arg'] ?? [],
  };
}


const t0 = Date.now();
const elapsed = (): string => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
const say = (text: string): void => console.log(text);
const progress = (text: string): void => console.log(`${elapsed()} ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Peers {
  uas: SippServer | null;
  registrar: KamailioHandle | null;
  reference: KamailioHandle | null;
  sidecar: SidecarProcess | null;
}

function kamailioBuffer(k: KamailioHandle): string {
  return /SO_RCVBUF is finally (\d+)/.exec(k.logs())?.[1] ?? '?';
}

async function startPeers(p: Plan, dir: string, dbPath: string, peers: Peers): Promise<void> {
  if (p.kinds.includes('invite')) {
    peers.uas = await startSippServer({
      scenario: scenario('uas.xml'),
      calls: 100_000_000,
      timeoutSec: HARD_LIMIT_MS / 1000,
      extraArgs: ['-buff_size', String(UDP_BUFFER_BYTES), '-max_recv_loops', '10000', '-max_sched_loops', '10000'],
    });
  }
  // DESIGN.md §5: -m 2048 for the registrar under INVITE load; its INVITEs go to the UAS.
  peers.registrar = await startKamailio({
    config: 'registrar',
    sharedMemMb: 2048,
    maxBuffer: UDP_BUFFER_BYTES,
    ...(peers.uas ? { fallbackTo: `127.0.0.1:${peers.uas.port}` } : {}),
  });
  if (p.paths.includes('reference')) {
    peers.reference = await startKamailio({ config: 'stateless-proxy', forwardTo: `127.0.0.1:${peers.registrar.port}`, maxBuffer: UDP_BUFFER_BYTES });
  }
  if (p.paths.includes('sidecar')) {
    peers.sidecar = await startSidecarProcess({
      binJs: join(REPO, 'dist', 'src', 'cli', 'bin.js'),
      dir,
      dbPath,
      port: await freePort(),
      upstreamPort: peers.registrar.port,
      nodeArgs: [...p.nodeArgs, ...(p.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'profile')] : [])],
    });
  }
  const reg = peers.registrar;
  say(`registrar  Kamailio pid ${reg.pid} 127.0.0.1:${reg.port}, 2 UDP workers, -m 2048, SO_RCVBUF ${kamailioBuffer(reg)}`);
  if (peers.reference) {
    say(`reference  Kamailio stateless pid ${peers.reference.pid} 127.0.0.1:${peers.reference.port}, 2 UDP workers, maxbuffer ${UDP_BUFFER_BYTES} → SO_RCVBUF ${kamailioBuffer(peers.reference)}`);
  }
  if (peers.sidecar) {
    const lines = peers.sidecar.logLines();
    const loaded = lines.find((l) => l.msg === 'licence snapshot loaded');
    const serving = lines.find((l) => l.msg === 'sipwarden serving (embedded proxy)') ?? lines.find((l) => 'udpBuffers' in l);
    const mem = sampleGroup(peers.sidecar.pid);
    say(
      `sidecar    sipwarden serve pid ${peers.sidecar.pid} 127.0.0.1:${peers.sidecar.port}, log level info, node flags ${sidecarNodeFlags(p).join(' ') || '(none)'}; ` +
        `snapshot ${String(loaded?.numbers ?? '?')} numbers in ${String(loaded?.ms ?? '?')} ms; UDP buffers ${JSON.stringify(serving?.udpBuffers ?? '?')}; idle RSS ${mem.leaderRssMb.toFixed(0)} MB`,
    );
  }
  if (peers.uas) say(`UAS        SIPp uas.xml (200 only) pid ${peers.uas.pid} 127.0.0.1:${peers.uas.port}`);
}

function sidecarNodeFlags(p: Plan): string[] {
  return [...p.nodeArgs, ...(p.cpuProf ? ['--cpu-prof'] : [])];
}

async function stopPeers(peers: Peers): Promise<void> {
  const stops: Promise<unknown>[] = [];
  // The sidecar first and with time to spare: with --cpu-prof it writes its profile on exit.
  if (peers.sidecar) stops.push(peers.sidecar.stop(20_000).catch((err: unknown) => console.error(`stopping the sidecar: ${String(err)}`)));
  for (const k of [peers.reference, peers.registrar]) if (k) stops.push(k.stop().catch((err: unknown) => console.error(`stopping kamailio: ${String(err)}`)));
  if (peers.uas) stops.push(peers.uas.stop().catch((err: unknown) => console.error(`stopping the UAS: ${String(err)}`)));
  await Promise.all(stops);
  peers.sidecar = peers.reference = peers.registrar = peers.uas = null;
}

function targetOf(path: PathName, peers: Peers): { target: string; pid: number | null } {
  const reg = peers.registrar as KamailioHandle;
  if (path === 'sidecar' && peers.sidecar) return { target: `127.0.0.1:${peers.sidecar.port}`, pid: peers.sidecar.pid };
  if (path === 'reference' && peers.reference) return { target: `127.0.0.1:${peers.reference.port}`, pid: peers.reference.pid };
  return { target: `127.0.0.1:${reg.port}`, pid: null };
}

/** Registers the numbers once (through the sidecar when there is one: it warms its JIT too), so that no measured path pays the registrar's first inserts. */
async function prefill(p: Plan, data: BenchData, peers: Peers): Promise<void> {
  if (!p.kinds.includes('register')) return;
  const calls = Math.min(data.registerRows, Math.max(...p.rates.register.map((r) => p.stepCalls('register', r))));
  const path: PathName = peers.sidecar ? 'sidecar' : 'direct';
  const { target, pid } = targetOf(path, peers);
  progress(`prefill: ${calls} REGISTERs via ${path} at ${p.prefillRate}/s (warm-up, not reported)`);
  const r = await runStep({
    path, kind: 'register', target, rate: p.prefillRate, calls, scenario: scenario('bench-register.xml'), injection: data.registerCsv,
    proxyPid: pid, registrarPid: (peers.registrar as KamailioHandle).pid, expectedRefused: path === 'sidecar' ? data.refusedWithin(calls) : 0,
    sippBufferBytes: UDP_BUFFER_BYTES,
  });
  progress(`prefill done: ${r.successful} ok, ${r.failed} failed, ${r.retransmissions} retransmissions, ${r.refused} refused`);
}

async function ladder(kind: LoadKind, p: Plan, data: BenchData, peers: Peers, results: StepResult[]): Promise<void> {
  say('');
  progress(`${kind.toUpperCase()} ladder, load average ${loadAverage()}`);
  say(header());
  const alive = new Set(p.paths);
  const rates = p.rates[kind];
  for (const [i, rate] of rates.entries()) {
    const order = p.paths.map((_, k) => p.paths[(k + i) % p.paths.length] as PathName);
    for (const path of order) {
      if (!alive.has(path)) continue;
      if (Date.now() - t0 > LADDER_BUDGET_MS) {
        progress(`time budget reached: ${kind} ladder stopped before ${path} at ${rate}/s`);
        return;
      }
      const { target, pid } = targetOf(path, peers);
      const calls = p.stepCalls(kind, rate);
      const r = await runStep({
        path, kind, target, rate, calls,
        scenario: scenario(kind === 'register' ? 'bench-register.xml' : 'bench-uac-invite.xml'),
        injection: kind === 'register' ? data.registerCsv : data.inviteCsv,
        proxyPid: pid,
        registrarPid: (peers.registrar as KamailioHandle).pid,
        expectedRefused: kind === 'register' && path === 'sidecar' ? data.refusedWithin(calls) : 0,
        sippBufferBytes: UDP_BUFFER_BYTES,
      });
      results.push(r);
      say(row(r));
      if (!r.clean) alive.delete(path);
      await sleep(SETTLE_MS);
    }
    if (alive.size === 0) break;
  }
}

function reportSidecarLog(peers: Peers): void {
  if (!peers.sidecar) return;
  const lines = peers.sidecar.logLines();
  const refused = lines.filter((l) => l.msg === 'refused').length;
  const warnings = lines.filter((l) => typeof l.level === 'number' && l.level >= 40);
  say(`sidecar log: ${lines.length} lines, ${refused} 'refused' decision lines (info), ${warnings.length} warnings/errors${warnings.length ? `: ${warnings.slice(0, 3).map((w) => String(w.msg)).join(' | ')}` : ''}`);
}

async function main(): Promise<void> {
  const p = plan(process.argv.slice(2));
  const missing = missingPeers();
  if (missing) throw new Error(`cannot run: ${missing} (install kamailio and sip-tester, test/support/README.md)`);

  say(`sipwarden SIP benchmark${p.quick ? ' (--quick)' : ''} — Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAverage()}`);
  say(`paths: ${p.paths.join(', ')}; REGISTER rates ${p.rates.register.join('/')}; INVITE rates ${p.rates.invite.join('/')}; UDP buffers asked ${UDP_BUFFER_BYTES} B everywhere`);
  const dir = makeTempDir('bench-sip');
  const dbPath = join(dir, 'bench.db');
  const now = Date.now();
  let t = performance.now();
  populate(dbPath, now);
  const maxInvite = Math.max(...p.rates.invite.map((r) => p.stepCalls('invite', r)));
  const data = writeInjection(dir, maxInvite);
  progress(`database: ${NUMBERS} numbers in ${GROUPS} projects in ${((performance.now() - t) / 1000).toFixed(1)} s; REGISTER file ${data.registerRows} numbers (${data.registerRefused} in expired projects), INVITE file ${data.inviteRows} calls`);

  const peers: Peers = { uas: null, registrar: null, reference: null, sidecar: null };
  let stopping: Promise<void> | null = null;
  const cleanup = (): Promise<void> => (stopping ??= stopPeers(peers));
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every process started`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const guard = setTimeout(() => {
    console.error(`time limit of ${HARD_LIMIT_MS / 60_000} minutes reached: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, HARD_LIMIT_MS);

  const results: StepResult[] = [];
  if (p.kinds.length > 0) {
    try {
      await startPeers(p, dir, dbPath, peers);
      await prefill(p, data, peers);
      for (const kind of p.kinds) await ladder(kind, p, data, peers, results);
      say('');
      for (const line of LEGEND) say(line);
      reportSidecarLog(peers);
    } finally {
      progress('stopping peers');
      await cleanup();
    }
  }

  say('');
  progress(`in-process split (load average ${loadAverage()})`);
  t = performance.now();
  const micro = measureSplit(dbPath, data.sampleNumbers, data.sampleCalls, now);
  const best = results.filter((r) => r.spec.path === 'sidecar' && r.spec.kind === 'register' && r.clean).at(-1);
  for (const line of microLines(micro, best?.proxyUsPerCall ?? null)) say(line);
  progress(`split measured in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  if (p.cpuProf) {
    const file = existsSync(join(dir, 'profile')) ? findProfile(join(dir, 'profile')) : undefined;
    if (file === undefined) {
      say('no CPU profile was written by the sidecar');
    } else {
      const windows = results.filter((r) => r.spec.path === 'sidecar').map((r) => r.window);
      const prof = summarizeProfile(file, windows);
      const kept = join(tmpdir(), `sipwarden-bench-sip-${Date.now()}.cpuprofile`);
      copyFileSync(file, kept);
      say('');
      say(`sidecar CPU profile (kept as ${kept}): ${windows.length} sidecar steps (start-up and prefill left out), busy ${(prof.busyMs / 1000).toFixed(1)} s, idle ${(prof.idleMs / 1000).toFixed(1)} s; self time by area:`);
      for (const a of prof.areas.slice(0, 14)) say(`  ${(a.share * 100).toFixed(1).padStart(5)} %  ${a.area}`);
      say('top functions (self time):');
      for (const f of prof.topFunctions) say(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
    }
  }

  say('');
  say(`SUMMARY (load average at the end ${loadAverage()}, total ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const top = { register: Math.max(...p.rates.register), invite: Math.max(...p.rates.invite) };
  for (const line of summary(results, p.kinds, p.paths, top)) say(line);
  clearTimeout(guard);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
