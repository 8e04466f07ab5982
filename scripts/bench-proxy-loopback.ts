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
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { startEmbeddedProxy } from '../src/sip/embedded-proxy.js';
import { LocalAddresses } from '../src/sip/local-addresses.js';
import { parseMessage } from '../src/sip/parse-message.js';
import { createProxy } from '../src/sip/stateless-proxy.js';

const WINDOW = 200;
const LOSS_AFTER_MS = 500;

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

/** A 200 OK as a registrar would send it: Via, From, To (+tag), Call-ID, CSeq copied. */
function okFor(request: string): string {
  const end = request.indexOf('\r\n\r\n');
  const lines = request.slice(0, end).split('\r\n');
  const out = ['SIP/2.0 200 OK'];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k] ?? '';
    const c = line.charCodeAt(0) | 0x20;
    if (c === 0x76 || c === 0x66 || c === 0x63) {
      if (/^(via|from|call-id|cseq)\s*:/i.test(line)) out.push(line);
    } else if (c === 0x74 && /^to\s*:/i.test(line)) {
      out.push(`${line};tag=up`);
    }
  }
  out.push('Content-Length: 0', '', '');
  return out.join('\r\n');
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
  });
  console.log(`\nLoopback UDP, window ${WINDOW}, ${seconds} s; UDP buffers granted: recv ${proxy.udpBuffers?.recv} B, send ${proxy.udpBuffers?.send} B`);
  const client = fork(script, ['client', String(proxy.addresses.udp?.port), String(seconds)], { stdio: 'inherit' });
  children.push(client);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await new Promise<{ done: number; lost: number; seconds: number }>((resolve) => client.once('message', resolve));
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

async function runUpstream(): Promise<void> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (data, rinfo) => socket.send(okFor(data.toString('latin1')), rinfo.port, rinfo.address));
  process.send?.({ port: socket.address().port });
  process.on('disconnect', () => process.exit(0));
}

async function runClient(proxyPort: number, seconds: number): Promise<void> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const inFlight = new Map<number, number>();
  let next = 0;
  let done = 0;
  let lost = 0;
  const send = (): void => {
    const i = next++;
    inFlight.set(i, Date.now());
    socket.send(registerText(i, port), proxyPort, '127.0.0.1');
  };
  const start = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const m = /Call-ID: bench-(\d+)@/.exec(text);
    if (m === null || !inFlight.delete(Number(m[1]))) return;
    done++;
    if (Date.now() < deadline) send();
  });
  for (let k = 0; k < WINDOW; k++) send();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [i, sent] of inFlight) {
      if (now - sent > LOSS_AFTER_MS) {
        inFlight.delete(i);
        lost++;
        if (now < deadline) send();
      }
    }
    if (now >= deadline) {
      clearInterval(sweep);
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      process.send?.({ done, lost, seconds: elapsed }, () => process.exit(0));
    }
  }, 100);
}

const [role, a, b] = process.argv.slice(2);
if (role === 'upstream') {
  void runUpstream();
} else if (role === 'client') {
  void runClient(Number(a), Number(b));
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
