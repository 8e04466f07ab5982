/**
 * The peers of the loopback benchmarks (bench-refusal), each run as a child
 * process of the script that forks it: an upstream answering every request 200, and a client
 * keeping a window of REGISTERs in flight through the proxy.
 */
import { createSocket } from 'node:dgram';

const LOSS_AFTER_MS = 500;

/** A 200 OK as a registrar would send it: Via, From, To (+tag), Call-ID, CSeq copied, in their order. */
export function okFor(request: string): string {
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

/** Child role: answers every datagram 200 OK; tells the parent its port. */
export async function runLoopbackUpstream(): Promise<void> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (data, rinfo) => socket.send(okFor(data.toString('latin1')), rinfo.port, rinfo.address));
  process.send?.({ port: socket.address().port });
  process.on('disconnect', () => process.exit(0));
}

export interface LoopbackClientResult {
  readonly done: number;
  readonly lost: number;
  readonly seconds: number;
  /** Final responses by status code. */
  readonly statuses: Record<string, number>;
}

export interface LoopbackClientOptions {
  readonly proxyPort: number;
  readonly seconds: number;
  /** Requests in flight at once. */
  readonly window: number;
  readonly request: (i: number, clientPort: number) => string;
  /** Finds `i` in the Call-ID of request `i`'s response: its one capture group. */
  readonly callId: RegExp;
}

/**
 * Child role: keeps `window` requests in flight for `seconds`, a new one for each answered or lost
 * (no answer within 500 ms); sends the parent a LoopbackClientResult and exits.
 */
export async function runLoopbackClient(options: LoopbackClientOptions): Promise<void> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const inFlight = new Map<number, number>();
  const statuses: Record<string, number> = {};
  let next = 0;
  let done = 0;
  let lost = 0;
  const send = (): void => {
    const i = next++;
    inFlight.set(i, Date.now());
    socket.send(options.request(i, port), options.proxyPort, '127.0.0.1');
  };
  const start = process.hrtime.bigint();
  const deadline = Date.now() + options.seconds * 1000;
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const m = options.callId.exec(text);
    if (m === null || !inFlight.delete(Number(m[1]))) return;
    const status = text.slice(8, 11);
    statuses[status] = (statuses[status] ?? 0) + 1;
    done++;
    if (Date.now() < deadline) send();
  });
  for (let k = 0; k < options.window; k++) send();
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
      const result: LoopbackClientResult = { done, lost, seconds: elapsed, statuses };
      process.send?.(result, () => process.exit(0));
    }
  }, 100);
}
