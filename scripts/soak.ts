/**
 * Soak run: `npm run soak -- --minutes 10 --rate 1000` (defaults), bounded by --minutes (≤ 180).
 *
 * Steady load through the sidecar (`sipwarden serve`, its own process, log level info) to a
 * Kamailio registrar, in consecutive SIPp runs of --interval seconds each: the mixed REGISTER load
 * of `bench:sip` (plain + digest + app, known and new installs; --load register for plain devices
 * only). After every interval one line: the interval's verdict (bench-sip-verdict.ts) and the
 * sidecar's RSS, peak RSS, open file descriptors and threads, its CPU, the other processes' and
 * the machine's load. At the end: how RSS and descriptors moved from the first interval to the
 * last, and how many intervals were clean. Memory that keeps growing under a steady load, or
 * descriptors that pile up, show here.
 *
 * Everything binds 127.0.0.1; every SIPp run is bounded in calls and time; every process started
 * is stopped, also on error, on the time limit or on Ctrl-C.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/database.js';
import { startKamailio, type KamailioHandle } from '../test/support/kamailio.js';
import { missingPeers } from '../test/support/peer-tools.js';
import { makeTempDir } from '../test/support/temp-dirs.js';
import { DIGEST_PREFIX, populate, writeInjection } from './bench-sip-db.js';
import { loadDrivers } from './bench-sip-drivers.js';
import { PATH_DEFINITIONS, type RunningPath } from './bench-sip-paths.js';
import { BenchUsageError } from './bench-sip-plan.js';
import { loadAverage } from './bench-sip-proc.js';
import { UDP_BUFFER_BYTES } from './bench-sip-sidecar.js';
import { runStep, type StepResult } from './bench-sip-step.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const scenario = (name: `${string}.xml`): `${string}.xml` => `${join(REPO, 'test', 'fixtures', 'sipp', name.slice(0, -4))}.xml`;
const MAX_MINUTES = 180;

interface SoakPlan {
  readonly minutes: number;
  readonly rate: number;
  readonly intervalS: number;
  readonly load: 'mixed' | 'register';
}

function number(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw new BenchUsageError(`--${flag} ${JSON.stringify(text)}: expected an integer from ${min} to ${max}`);
  return v;
}

function parseSoak(argv: readonly string[]): SoakPlan {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { minutes: { type: 'string' }, rate: { type: 'string' }, interval: { type: 'string' }, load: { type: 'string' } },
    }));
  } catch (err) {
    throw new BenchUsageError(`${err instanceof Error ? err.message : String(err)}; options: --minutes N --rate N --interval S --load mixed|register`);
  }
  const load = values.load ?? 'mixed';
  if (load !== 'mixed' && load !== 'register') throw new BenchUsageError(`--load ${JSON.stringify(load)}: expected mixed or register`);
  return {
    minutes: number('minutes', values.minutes, 10, 1, MAX_MINUTES),
    rate: number('rate', values.rate, 1000, 1, 50_000),
    intervalS: number('interval', values.interval, 30, 5, 600),
    load,
  };
}

interface ProcessSample {
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly fds: number;
  readonly threads: number;
}

/** Undefined once the process is gone. */
function sampleProcess(pid: number): ProcessSample | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kib('VmRSS') / 1024, peakRssMb: kib('VmHWM') / 1024, fds: readdirSync(`/proc/${pid}/fd`).length, threads: kib('Threads') };
}

const t0 = Date.now();
const say = (text: string): void => console.log(text);
const minutesIn = (): string => ((Date.now() - t0) / 60_000).toFixed(1).padStart(5);

function line(r: StepResult, s: ProcessSample): string {
  const m = r.measure;
  return [
    `${minutesIn()} min`,
    `${m.successful + m.failed} calls`,
    `${m.failed} failed`,
    `403 ${m.refused}/${r.spec.expectedRefused}`,
    `503 ${m.shed}`,
    `retr ${(r.retransShare * 100).toFixed(2)} %`,
    `done ${m.completedPerS.toFixed(0)}/s`,
    `p99 ${m.p99Ms} ms`,
    `RSS ${s.rssMb.toFixed(0)} MB (peak ${s.peakRssMb.toFixed(0)})`,
    `fds ${s.fds}`,
    `threads ${s.threads}`,
    `sidecar CPU ${((r.proxyCpu ?? 0) * 100).toFixed(0)} %`,
    `registrar ${(r.registrarCpu * 100).toFixed(0)} %`,
    `SIPp ${(r.sippCpu * 100).toFixed(0)} %`,
    `others ${(r.otherCpu * 100).toFixed(0)} %`,
    `load ${r.load1.toFixed(1)}`,
    r.verdict.clean ? 'clean' : `NOT clean: ${r.verdict.notes.join('; ')}`,
  ].join(' | ');
}

async function main(): Promise<void> {
  const p = parseSoak(process.argv.slice(2));
  const missing = missingPeers();
  if (missing) throw new Error(`cannot run: ${missing} (install kamailio and sip-tester, test/support/README.md)`);
  say(`sipwarden soak — ${p.load} REGISTER load at ${p.rate}/s for ${p.minutes} min in ${p.intervalS} s intervals; Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAverage()}`);
  const dir = makeTempDir('soak');
  const dbPath = join(dir, 'bench.db');
  const populated = populate(dbPath, Date.now(), { renewalInstalls: 1, burstInstalls: 1 });
  const data = writeInjection(dir, 10);
  say(`database: ${populated.numbers} numbers (the bench:sip data)`);

  let registrar: KamailioHandle | null = null;
  let sidecar: RunningPath | null = null;
  let stopping: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (stopping ??= (async () => {
      await sidecar?.stop().catch((err: unknown) => console.error(`stopping the sidecar: ${String(err)}`));
      await registrar?.stop().catch((err: unknown) => console.error(`stopping the registrar: ${String(err)}`));
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every process started`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The last interval may start just before the end and run its length plus SIPp's grace.
  const guard = setTimeout(() => {
    console.error('soak time limit reached: stopping');
    void cleanup().finally(() => process.exit(1));
  }, (p.minutes * 60 + p.intervalS + 120) * 1000);

  const samples: ProcessSample[] = [];
  let clean = 0;
  let intervals = 0;
  try {
    registrar = await startKamailio({ config: 'registrar', sharedMemMb: 1024, maxBuffer: UDP_BUFFER_BYTES, debug: 1, authPrefix: DIGEST_PREFIX });
    const definition = PATH_DEFINITIONS.find((d) => d.name === 'sidecar');
    if (!definition) throw new Error('no sidecar path definition');
    sidecar = await definition.start({ repo: REPO, dir, dbPath, registrarPort: registrar.port, udpBufferBytes: UDP_BUFFER_BYTES, nodeArgs: [] });
    say(`sidecar   ${sidecar.describe()}`);
    const pid = sidecar.pid;
    if (pid === null) throw new Error('the sidecar path has no process to watch');
    say(`registrar Kamailio pid ${registrar.pid} 127.0.0.1:${registrar.port}`);
    const idle = sampleProcess(pid);
    if (!idle) throw new Error('the sidecar exited right after start-up');
    say(`${minutesIn()} min | idle | RSS ${idle.rssMb.toFixed(0)} MB | fds ${idle.fds} | threads ${idle.threads}`);
    const db = openDatabase(dbPath, { readonly: true });
    try {
      const driver = loadDrivers(data, dir, db, scenario, say)[p.load];
      const end = t0 + p.minutes * 60_000;
      while (Date.now() < end) {
        const calls = p.rate * p.intervalS;
        const input = driver.prepare(sidecar, p.rate, calls);
        const r = await runStep({
          path: sidecar.name, load: p.load, phase: 'background', target: sidecar.target, rate: p.rate, calls,
          proxyPid: sidecar.pid, registrarPid: registrar.pid, registrarPort: registrar.port, sippBufferBytes: UDP_BUFFER_BYTES, ...input,
        });
        const s = sampleProcess(pid);
        if (!s) {
          say(`${minutesIn()} min | the sidecar process is gone: ${r.verdict.notes.join('; ')}`);
          break;
        }
        samples.push(s);
        intervals++;
        if (r.verdict.clean) clean++;
        say(line(r, s));
      }
    } finally {
      db.close();
    }
    for (const l of sidecar.report()) say(l);
  } finally {
    await cleanup();
    clearTimeout(guard);
  }
  const first = samples[0];
  const last = samples.at(-1);
  if (first && last) {
    const peak = Math.max(...samples.map((s) => s.rssMb));
    say('');
    say(`SOAK SUMMARY (load average at the end ${loadAverage()}): ${clean} of ${intervals} intervals clean; ` +
      `RSS ${first.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB (highest ${peak.toFixed(0)}) from the first interval to the last; fds ${first.fds} → ${last.fds}; threads ${first.threads} → ${last.threads}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof BenchUsageError) {
      console.error(`soak: ${err.message}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
