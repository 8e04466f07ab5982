/**
 * Rough throughput of the embedded proxy on loopback UDP (the SIPp benchmark comes later):
 * `npm run build && node dist/scripts/bench-proxy-loopback.js [seconds]` (default 8 s, max 10).
 *
 * 1. In-process: µs per REGISTER parse, per REGISTER forward (parse + route + edit) and per 200 OK
 *    relayed, with the core writing to a sink instead of a socket.
 * 2. Loopback: this process runs the proxy (UDP, no gate); a child process `client` keeps a window
 *    of REGISTERs in flight and a child process `upstream` answers each with 200 OK. Reported:
 *    transactions/s completed, losses, and the proxy process's CPU time per transaction — the
 *    figure that says how many REGISTER/s one core could carry, as the peers share the machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmbeddedProxy } from '../src/sip/embedded-proxy.js';
import { LocalAddresses } from '../src/sip/local-addresses.js';
import { parseMessage } from '../src/sip/parse-message.js';
import { createProxy } from '../src/sip/stateless-proxy.js';
import { okFor, runLoopbackClient, runLoopbackUpstream, type LoopbackClientResult } from './loopback-peers.js';

const WINDOW = 200;

function registerText(i: number, clientPort: number): string {
  return [
    'REGISTER sip:intercom.example SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${clientPort};branch=z9hG4bK-b${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:${1000 + (i % 5000)}@intercom.example>;tag=f${i}`,
    `To: <sip:${1000 + (i % 5000)}@intercom.example>`,
    `Call-ID: bench-${i}@127.0.0.1`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${1000 + (i % 5000)}@127.0.0.1:${clientPort}>;expires=600`,
    'Expires: 600',
    'User-Agent: bench/1.0',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function microBenchmarks(): void {
  const n = 200_000;
  const sink: Buffer[] = [];
  const core = createProxy({
    io: { send: (_t, d) => (sink.length < 1 ? sink.push(d) : (sink[0] = d), true) },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: 5060 }],
    localAddresses: new LocalAddresses([{ host: '127.0.0.1', port: 5060 }]),
    upstream: { transport: 'udp', address: '127.0.0.1', port: 5080 },
  });
  const requests = Array.from({ length: 1000 }, (_, i) => Buffer.from(registerText(i, 5099)));
  const source = { transport: 'udp' as const, address: '127.0.0.1', port: 5099 };
  const time = (label: string, fn: (i: number) => void): void => {
    for (let i = 0; i < 20_000; i++) fn(i);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    console.log(`${label.padEnd(44)} ${us.toFixed(2)} µs`);
  };
  time('parse REGISTER (start line, headers, top Via)', (i) => {
    const r = parseMessage(requests[i % 1000] as Buffer);
    if (!r.ok) throw new Error(r.problem);
  });
  time('forward REGISTER (parse+route+edit, no I/O)', (i) => core.handle(requests[i % 1000] as Buffer, source));
  const forwarded = sink[0] as Buffer;
  const response = Buffer.from(okFor(forwarded.toString('latin1')));
  const upstream = { transport: 'udp' as const, address: '127.0.0.1', port: 5080 };
  time('relay 200 OK (parse+Via removal, no I/O)', () => core.handle(response, upstream));
}

async function runProxy(seconds: number): Promise<void> {
  console.log('In-process (one core, no sockets):');
  microBenchmarks();

  const script = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [];
  const kill = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', kill);
  const upstream = fork(script, ['upstream'], { stdio: 'inherit' });
  children.push(upstream);
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const proxy = await startEmbeddedProxy({
    listen: { udp: { host: '127.0.0.1', port: 0 } },
    upstream: { host: '127.0.0.1', port: upstreamPort, transport: 'udp' },
    // The cost of forwarding, not of refusing: on a busy machine shedding would refuse part of it.
    overload: { enabled: false },
  });
  console.log(`\nLoopback UDP, window ${WINDOW}, ${seconds} s; UDP buffers granted: recv ${proxy.udpBuffers?.recv} B, send ${proxy.udpBuffers?.send} B`);
  const client = fork(script, ['client', String(proxy.addresses.udp?.port), String(seconds)], { stdio: 'inherit' });
  children.push(client);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await new Promise<LoopbackClientResult>((resolve) => client.once('message', resolve));
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuUs = cpu.user + cpu.system;
  const stats = proxy.stats;
  await proxy.close();
  kill();
  const rate = result.done / result.seconds;
  const perTx = cpuUs / Math.max(1, stats.requestsForwarded);
  console.log(`transactions completed      ${result.done} in ${result.seconds.toFixed(2)} s = ${rate.toFixed(0)} REGISTER/s (lost ${result.lost})`);
  console.log(`proxy CPU                   ${(cpuUs / 1e6).toFixed(2)} s of ${wall.toFixed(2)} s wall (${((cpuUs / 1e6 / wall) * 100).toFixed(0)} % of a core)`);
  console.log(`proxy CPU per transaction   ${perTx.toFixed(1)} µs (REGISTER in+out, 200 in+out) → ~${(1e6 / perTx).toFixed(0)} REGISTER/s per core`);
  console.log(`proxy stats                 ${JSON.stringify(stats)}`);
}

const [role, a, b] = process.argv.slice(2);
if (role === 'upstream') {
  void runLoopbackUpstream();
} else if (role === 'client') {
  void runLoopbackClient({ proxyPort: Number(a), seconds: Number(b), window: WINDOW, request: registerText, callId: /Call-ID: bench-(\d+)@/ });
} else {
  const seconds = Math.min(10, Math.max(1, Number(role ?? 8) || 8));
  runProxy(seconds).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
