/**
 * What refusing costs beside forwarding, side by side on loopback UDP (issue 8 item 7: refusing
 * must stay cheaper than forwarding): `npm run build && node dist/scripts/bench-refusal.js [seconds]`
 * (default 3 s per run, at most 10).
 *
 * This process runs the proxy core on a UDP socket with the real Enforcer on the benchmark's
 * licence database (bench-sip-db.ts, 100,000 numbers), logging at info to /dev/null as `serve`
 * does. A child process `client` keeps a window of REGISTERs in flight; a child `upstream` answers
 * each forwarded one 200. Four paths, interleaved over three rounds, best round kept:
 *   forward         licensed numbers: gate, forward, relay the 200 (2 messages in, 2 out)
 *   refuse          numbers of expired projects: gate, 403 (1 in, 1 out), refusal log rate-limited
 *   refuse-logged   the same with every refusal logged (no rate limit), the cost before it
 *   shed            overload control refusing every new REGISTER with 503, before the gate
 * Reported: first the proxy core alone in process (no sockets), then on loopback the proxy
 * process's CPU time (user + system, so time the shared machine gives to other processes is not
 * counted) per REGISTER handled and per message received, and the ratios to forwarding.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flow } from '../src/sip/transports/flow.js';
import { LocalAddresses } from '../src/sip/proxy/local-addresses.js';
import { DEFAULT_OVERLOAD, OverloadControl } from '../src/sip/proxy/overload-control.js';
import { SheddingLog } from '../src/sip/proxy/shedding-log.js';
import { createProxy } from '../src/sip/proxy/stateless-proxy.js';
import { startUdpTransport } from '../src/sip/transports/udp.js';
import { isRefused, numberOf, populate, REGISTERING } from './bench-sip-db.js';
import { benchEnforcer, registerText } from './bench-sip-micro.js';
import { okFor, runLoopbackClient, runLoopbackUpstream, type LoopbackClientResult } from './loopback-peers.js';

const WINDOW = 100;
const ROUNDS = 3;
type PathName = 'forward' | 'refuse' | 'refuse-logged' | 'shed';
const PATHS: readonly PathName[] = ['forward', 'refuse', 'refuse-logged', 'shed'];

interface RunResult {
  readonly path: PathName;
  readonly requests: number;
  readonly received: number;
  readonly cpuUs: number;
  readonly rate: number;
  readonly lost: number;
  readonly statuses: Record<string, number>;
}

/** Numbers of the benchmark database: licensed ones, or those of expired projects (refused). */
function numbers(refused: boolean): string[] {
  const out: string[] = [];
  for (let k = 0; k < REGISTERING; k++) if (isRefused(k) === refused) out.push(numberOf(k));
  return out;
}

/** An overload controller held at "refuse every new request": what one shed costs. */
function saturated(): OverloadControl {
  const control = new OverloadControl(DEFAULT_OVERLOAD);
  for (let i = 0; i < 200 && control.report().shedProbability < 1; i++) control.update(1000);
  if (control.report().shedProbability < 1) throw new Error('could not saturate the overload controller');
  return control;
}

/** The proxy core of one path, as `serve` builds it, sending through `send`. */
function buildCore(path: PathName, dbPath: string, port: number, upstreamPort: number, send: (target: Flow, data: Buffer) => boolean) {
  const { gate, logger, close } = benchEnforcer(dbPath, Date.now, path === 'refuse-logged' ? { refusalLinesPerSecond: 1e9 } : {});
  const core = createProxy({
    io: { send },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port }],
    localAddresses: new LocalAddresses([{ host: '127.0.0.1', port }]),
    upstream: { transport: 'udp', address: '127.0.0.1', port: upstreamPort },
    gate,
    logger,
    ...(path === 'shed' ? { overload: { control: saturated(), log: new SheddingLog(logger) } } : {}),
  });
  return { core, close };
}

const WARMUP = 5000;
const PER_ROUND = 20_000;
const CALLS = WARMUP + 3 * PER_ROUND;

/**
 * In process, no sockets: CPU µs per REGISTER of the proxy core alone (parse, gate, build), the
 * core writing to a sink; forward includes relaying its 200. Best of 3 rounds of 20,000.
 */
async function inProcess(dbPath: string): Promise<Record<PathName, number>> {
  const client: Flow = { transport: 'udp', address: '127.0.0.1', port: 5099 };
  const upstream: Flow = { transport: 'udp', address: '127.0.0.1', port: 5080 };
  const out = {} as Record<PathName, number>;
  for (const path of PATHS) {
    let last: Buffer = Buffer.alloc(0);
    const { core, close } = buildCore(path, dbPath, 5060, upstream.port, (_t, data) => ((last = data), true));
    const pool = numbers(path === 'refuse' || path === 'refuse-logged');
    // Every request a new transaction (its own branch): none is answered from the reply cache.
    const requests = Array.from({ length: CALLS }, (_, i) => Buffer.from(registerText(i, pool[(i * 7919) % pool.length] as string, client.port), 'latin1'));
    const one = (i: number): void => {
      core.handle(requests[i] as Buffer, client);
      if (path === 'forward') core.handle(Buffer.from(okFor(last.toString('latin1')), 'latin1'), upstream);
    };
    for (let i = 0; i < WARMUP; i++) one(i);
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const from = WARMUP + round * PER_ROUND;
      const before = process.cpuUsage();
      for (let i = from; i < from + PER_ROUND; i++) one(i);
      const used = process.cpuUsage(before);
      best = Math.min(best, (used.user + used.system) / PER_ROUND);
    }
    await close();
    out[path] = best;
  }
  return out;
}

async function runPath(path: PathName, seconds: number, dbPath: string, upstreamPort: number, script: string): Promise<RunResult> {
  let handle: (data: Buffer, source: Flow) => void = () => undefined;
  const udp = await startUdpTransport({ host: '127.0.0.1', port: 0 }, (data, source) => handle(data, source));
  const { core, close } = buildCore(path, dbPath, udp.local.port, upstreamPort, (target, data) => udp.send(target, data));
  handle = (data, source) => core.handle(data, source);
  const client = fork(script, ['client', String(udp.local.port), String(seconds), path === 'forward' || path === 'shed' ? 'allowed' : 'refused'], {
    stdio: 'inherit',
  });
  const cpu0 = process.cpuUsage();
  const result = await new Promise<LoopbackClientResult>((resolve, reject) => {
    client.once('message', (m: LoopbackClientResult) => resolve(m));
    client.once('exit', (code) => reject(new Error(`client exited ${code}`)));
  });
  const cpu = process.cpuUsage(cpu0);
  client.kill('SIGKILL');
  const received = core.stats.received;
  await udp.close();
  await close();
  return {
    path,
    requests: result.done,
    received,
    cpuUs: cpu.user + cpu.system,
    rate: result.done / result.seconds,
    lost: result.lost,
    statuses: result.statuses,
  };
}

async function main(seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-bench-refusal-'));
  const children: ChildProcess[] = [];
  process.once('exit', () => {
    children.forEach((c) => c.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });
  const dbPath = join(dir, 'bench.db');
  populate(dbPath, Date.now(), { renewalInstalls: 0, burstInstalls: 0 });
  const micro = await inProcess(dbPath);
  console.log('In process (proxy core writing to a sink, no sockets), CPU µs per REGISTER:');
  for (const path of PATHS) console.log(`  ${path.padEnd(14)} ${micro[path].toFixed(2).padStart(6)} µs  ${(micro[path] / micro.forward).toFixed(2)} × forward`);
  console.log('');
  const script = fileURLToPath(import.meta.url);
  const upstream = fork(script, ['upstream'], { stdio: 'inherit' });
  children.push(upstream);
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  console.log(`Loopback UDP, window ${WINDOW}, ${seconds} s per run, ${ROUNDS} rounds interleaved; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const best = new Map<PathName, RunResult & { perRequest: number; perMessage: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of PATHS) {
      const r = await runPath(path, seconds, dbPath, upstreamPort, script);
      const perRequest = r.cpuUs / Math.max(1, r.requests);
      const perMessage = r.cpuUs / Math.max(1, r.received);
      console.log(
        `  round ${round + 1} ${path.padEnd(14)} ${r.rate.toFixed(0).padStart(6)} REGISTER/s  ${perRequest.toFixed(1).padStart(6)} µs/REGISTER  ${perMessage.toFixed(1).padStart(6)} µs/message  lost ${r.lost}  ${JSON.stringify(r.statuses)}`,
      );
      const previous = best.get(path);
      if (previous === undefined || perRequest < previous.perRequest) best.set(path, { ...r, perRequest, perMessage });
    }
  }
  const forward = best.get('forward');
  if (forward === undefined) return;
  console.log(`\nBest round, proxy CPU (user+system); load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('path            µs/REGISTER  µs/message  vs forward (per REGISTER)');
  for (const path of PATHS) {
    const r = best.get(path);
    if (r === undefined) continue;
    console.log(`${path.padEnd(15)} ${r.perRequest.toFixed(1).padStart(11)} ${r.perMessage.toFixed(1).padStart(11)}  ${(r.perRequest / forward.perRequest).toFixed(2)}`);
  }
}

const [role, a, b, c] = process.argv.slice(2);
if (role === 'upstream') {
  void runLoopbackUpstream();
} else if (role === 'client') {
  const pool = numbers(c === 'refused');
  void runLoopbackClient({
    proxyPort: Number(a),
    seconds: Number(b),
    window: WINDOW,
    request: (i, port) => registerText(i, pool[i % pool.length] as string, port),
    callId: /Call-ID: (\d+)-4242@/,
  });
} else {
  const seconds = Math.min(10, Math.max(1, Number(role ?? 3) || 3));
  main(seconds).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
