/**
 * Short SIPp runs past capacity, to tune and check load shedding (issue 8 item 7):
 * `npm run build && node dist/scripts/tune-overload.js --rates 6000,9000,12000 [--seconds 10] [--modes shed,off]`.
 *
 * For each rate, with shedding on (`shed`, the default settings) and off (`off`: the delay is still
 * measured, never acted on), in turn: a fresh sidecar, warmed up by 3,000 REGISTERs at 1,000/s, (`startSidecar`, as `serve` runs it, in this
 * process, log level info to /dev/null) in front of a Kamailio registrar, and SIPp sending
 * REGISTERs at the rate for the given seconds (bench-register.xml: 503 ends a call without a
 * response time). Reported per run: REGISTERs completed per second (200 or 403),
 * refused with 503, retransmissions, failed calls, p50/p99 response time of the completed ones,
 * and the two candidate overload signals sampled every 50 ms during the run: the UDP receive-queue
 * wait the controller acts on (its probe, which includes the event-loop lag) and the event-loop
 * delay alone (perf_hooks.monitorEventLoopDelay), with the shed probability.
 * Everything binds 127.0.0.1; every process started is stopped, also on error.
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/schema.js';
import { startSidecar, type Sidecar } from '../src/main.js';
import { startKamailio, type KamailioHandle } from '../test/support/kamailio.js';
import { missingPeers } from '../test/support/peer-tools.js';
import { freePort } from '../test/support/ports.js';
import { readTraceBySuffix } from '../test/support/sipp-stats.js';
import { runSipp } from '../test/support/sipp.js';
import { makeTempDir } from '../test/support/temp-dirs.js';
import { populate, writeInjection } from './bench-sip-db.js';
import { loadAverage } from './bench-sip-proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCENARIO = join(resolve(HERE, '..', '..'), 'test', 'fixtures', 'sipp', 'bench-register.xml') as `${string}.xml`;
const BUFFER = 4 * 1024 * 1024;
type Mode = 'shed' | 'off';
const TRACE = process.env.TUNE_TRACE === '1';

interface Signals {
  waitMean: number;
  waitMax: number;
  loopP99: number;
  loopMax: number;
  pMean: number;
  pMax: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

function configFor(mode: Mode, dbPath: string, port: number, upstreamPort: number, dir: string): Config {
  const parsed = parseConfig(
    {
      database: dbPath,
      log: { level: 'info' },
      sip: {
        listen: { udp: { host: '127.0.0.1', port } },
        upstream: { host: '127.0.0.1', port: upstreamPort, transport: 'udp' },
        recvBufferSize: BUFFER,
        sendBufferSize: BUFFER,
      },
    },
    {},
    'tune-overload',
    dir,
  );
  if (mode === 'shed') return parsed;
  // Measure, never act: a target no delay reaches (beyond what the schema lets an operator set).
  return { ...parsed, sip: { ...parsed.sip, overload: { ...parsed.sip.overload, targetDelayMs: 1e9 } } };
}

async function runOne(mode: Mode, rate: number, seconds: number, dbPath: string, csv: string, registrar: KamailioHandle, dir: string): Promise<string> {
  const port = await freePort();
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const sidecar: Sidecar = await startSidecar(configFor(mode, dbPath, port, registrar.port, dir), { logger });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const waits: number[] = [];
  const ps: number[] = [];
  const trace: string[] = [];
  let last = { fwd: 0, shed: 0, t: performance.now() };
  const sampler = setInterval(() => {
    const o = sidecar.proxy?.overload();
    if (o) {
      waits.push(o.delayMs);
      ps.push(o.shedProbability);
    }
    const st = sidecar.proxy?.stats;
    if (TRACE && st && o && waits.length % 4 === 0) {
      const now = performance.now();
      const dt = (now - last.t) / 1000;
      trace.push(`${(now / 1000).toFixed(1)} wait ${o.delayMs.toFixed(0)} p ${o.shedProbability.toFixed(2)} fwd/s ${((st.requestsForwarded - last.fwd) / dt).toFixed(0)} shed/s ${((st.shed - last.shed) / dt).toFixed(0)}`);
      last = { fwd: st.requestsForwarded, shed: st.shed, t: now };
    }
  }, 50);
  try {
    // Warm the JIT at a rate well within capacity, as `serve` would be before any overload.
    await runSipp({
      scenario: SCENARIO,
      target: `127.0.0.1:${port}`,
      calls: 3000,
      rate: 1000,
      timeoutSec: 30,
      injection: csv,
      extraArgs: ['-buff_size', String(BUFFER)],
    });
    await new Promise((r) => setTimeout(r, 500));
    waits.length = 0;
    ps.length = 0;
    loop.enable();
    const calls = rate * seconds;
    const result = await runSipp({
      scenario: SCENARIO,
      target: `127.0.0.1:${port}`,
      transport: 'u1',
      calls,
      rate,
      timeoutSec: seconds + 15,
      injection: csv,
      extraArgs: ['-buff_size', String(BUFFER), '-trace_rtt', '-rtt_freq', String(Math.max(1, Math.min(500, Math.floor(calls / 20)))), '-max_recv_loops', '10000', '-max_sched_loops', '10000'],
    });
    loop.disable();
    if (TRACE) console.log(trace.join('\n'));
    const count = (suffix: string) => Object.entries(result.counts).filter(([k]) => k.endsWith(suffix)).reduce((s, [, v]) => s + v, 0);
    const completed = count('_200_Recv') + count('_403_Recv');
    const shed = count('_503_Recv');
    const rows = (readTraceBySuffix(result.files.dir, '_rtt.csv') ?? '')
      .split('\n')
      .slice(1)
      .map((l) => l.split(';'))
      .filter((c) => c[2]?.trim() === '1')
      .map((c) => ({ at: Number(c[0]), ms: Number(c[1]) }));
    const times = rows.map((r) => r.ms).sort((a, b) => a - b);
    const span = rows.length > 1 ? ((rows.at(-1)?.at ?? 0) - (rows[0]?.at ?? 0)) / 1000 : 0;
    const achieved = span > 0.2 ? (rows.length - 1) / span : completed / seconds;
    const s = result.stats;
    const sortedWaits = [...waits].sort((a, b) => a - b);
    const signals: Signals = {
      waitMean: waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length),
      waitMax: sortedWaits.at(-1) ?? 0,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      pMean: ps.reduce((a, b) => a + b, 0) / Math.max(1, ps.length),
      pMax: Math.max(0, ...ps),
    };
    return [
      `${mode.padEnd(4)} ${String(rate).padStart(6)}/s`,
      `completed ${achieved.toFixed(0).padStart(6)}/s (${completed})`,
      `503 ${String(shed).padStart(6)}`,
      `retrans ${String(s?.retransmissions ?? '?').padStart(6)}`,
      `failed ${String(s?.failed ?? '?').padStart(6)}`,
      `p50 ${percentile(times, 0.5).toFixed(0).padStart(4)} ms p99 ${percentile(times, 0.99).toFixed(0).padStart(5)} ms`,
      `| queue wait mean ${signals.waitMean.toFixed(0).padStart(4)} max ${signals.waitMax.toFixed(0).padStart(5)} ms`,
      `loop delay p99 ${signals.loopP99.toFixed(0).padStart(4)} max ${signals.loopMax.toFixed(0).padStart(5)} ms`,
      `shed p mean ${signals.pMean.toFixed(2)} max ${signals.pMax.toFixed(2)}`,
    ].join('  ');
  } finally {
    clearInterval(sampler);
    loop.disable();
    await sidecar.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '4000,8000' },
      seconds: { type: 'string', default: '10' },
      modes: { type: 'string', default: 'shed,off' },
    },
  });
  const rates = (values.rates ?? '').split(',').map(Number);
  const seconds = Math.min(30, Math.max(2, Number(values.seconds)));
  const modes = (values.modes ?? '').split(',') as Mode[];
  if (rates.some((r) => !Number.isInteger(r) || r <= 0) || modes.some((m) => m !== 'shed' && m !== 'off')) throw new Error('--rates a,b,.. (integers) --modes shed,off');
  const missing = missingPeers();
  if (missing) throw new Error(`cannot run: ${missing}`);
  const dir = makeTempDir('tune-overload');
  const dbPath = join(dir, 'bench.db');
  populate(dbPath, Date.now(), { renewalInstalls: 0, burstInstalls: 0 });
  const data = writeInjection(dir, 10);
  console.log(`tune-overload: rates ${rates.join('/')} for ${seconds} s, modes ${modes.join('/')}; load average ${loadAverage()}`);
  const registrar = await startKamailio({ config: 'registrar', sharedMemMb: 2048, maxBuffer: BUFFER });
  try {
    // Register every number once, so that no run pays the registrar's first inserts.
    await runSipp({
      scenario: SCENARIO,
      target: `127.0.0.1:${registrar.port}`,
      calls: Math.min(data.registerRows, Math.max(...rates) * seconds),
      rate: 4000,
      timeoutSec: 120,
      injection: data.registerCsv,
      extraArgs: ['-buff_size', String(BUFFER)],
    });
    for (const rate of rates) {
      for (const mode of modes) {
        console.log(await runOne(mode, rate, seconds, dbPath, data.registerCsv, registrar, dir));
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
  } finally {
    await registrar.stop();
  }
  console.log(`load average at the end ${loadAverage()}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
