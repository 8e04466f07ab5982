import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamLimits } from '../../src/sip/transports/connection-limits.js';
import { startHarness, type Harness } from './harness.js';
import { header, register } from './messages.js';

/**
 * Issue 8 item 2: connection caps per source address and in total (TCP and WebSocket together),
 * a read timeout for messages that never complete (slowloris), and an idle lifetime that bytes of
 * an unfinished message do not renew. Real sockets on loopback; 127.0.0.2 plays another host.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** How long a test waits for the proxy to act before failing (a hang guard, not a speed assertion). */
const GUARD_MS = 5000;

async function harness(connections: Partial<StreamLimits>): Promise<Harness> {
  const h = await startHarness({ connections });
  cleanups.push(() => h.close());
  return h;
}

/** A raw TCP connection from `from` (a loopback address); resolves once connected. */
async function open(port: number, from = '127.0.0.1'): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => undefined);
  cleanups.push(() => socket.destroy());
  return socket;
}

/** Resolves with the ms until the proxy closes `socket`, or rejects after the guard. */
function closedWithin(socket: Socket, started = Date.now()): Promise<number> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(Date.now() - started);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection still open after ${GUARD_MS} ms`)), GUARD_MS);
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

/** Whether the proxy keeps `socket` open for `ms` (it closes refused ones at once). */
function keepsOpenFor(socket: Socket, ms: number): Promise<boolean> {
  return Promise.race([
    closedWithin(socket).then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms)),
  ]);
}

/** A WebSocket handshake by hand, so that the test can then send partial frames. */
async function openWs(port: number, from = '127.0.0.1'): Promise<Socket> {
  const socket = await open(port, from);
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        socket.pause();
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed during the handshake: ${text}`)));
  });
  expect(head.startsWith('HTTP/1.1 101')).toBe(true);
  return socket;
}

/** A masked client text frame (RFC 6455 §5.2) for payloads under 126 bytes. */
function wsFrame(payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8');
  const mask = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | data.length]), mask, masked]);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection caps (issue 8 item 2)', () => {
  it('caps the connections of one source address, TCP and WebSocket together, and serves other hosts', async () => {
    const h = await harness({ maxConnections: 100, maxConnectionsPerSource: 4 });
    const tcpPort = h.proxy.addresses.tcp?.port ?? 0;
    const wsPort = h.proxy.addresses.ws?.port ?? 0;
    const kept = [await open(tcpPort), await open(tcpPort), await openWs(wsPort), await openWs(wsPort)];
    // One address opening many more: each is closed at once.
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => open(i % 2 === 0 ? tcpPort : wsPort)));
    await Promise.all(flood.map((s) => closedWithin(s)));
    for (const s of kept) expect(await keepsOpenFor(s, 50)).toBe(true);
    const tcp = h.proxy.connections().tcp;
    const ws = h.proxy.connections().ws;
    expect((tcp?.refusedPerSource ?? 0) + (ws?.refusedPerSource ?? 0)).toBe(30);
    expect((tcp?.refusedTotal ?? 0) + (ws?.refusedTotal ?? 0)).toBe(0);
    // Another host is still served.
    const other = await open(tcpPort, '127.0.0.2');
    other.write(register({ callId: 'other-host', branch: 'z9hG4bK-oh', viaTransport: 'TCP' }));
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('other-host');
  });

  it('caps all accepted connections together and gives a place back when one closes', async () => {
    const h = await harness({ maxConnections: 3, maxConnectionsPerSource: 10 });
    const port = h.proxy.addresses.tcp?.port ?? 0;
    const a = await open(port, '127.0.0.1');
    await open(port, '127.0.0.2');
    await openWs(h.proxy.addresses.ws?.port ?? 0, '127.0.0.3');
    const refused = await open(port, '127.0.0.4');
    await closedWithin(refused);
    expect(h.proxy.connections().tcp?.refusedTotal).toBe(1);
    a.destroy();
    for (let i = 0; i < 100 && (h.proxy.connections().tcp?.open ?? 0) > 1; i++) await pause(10);
    const again = await open(port, '127.0.0.4');
    expect(await keepsOpenFor(again, 150)).toBe(true);
    expect(h.proxy.connections().tcp?.accepted).toBe(3);
  });
});

describe('slow and idle connections (issue 8 item 2)', () => {
  it('closes a TCP client that dribbles a message slower than the read timeout', async () => {
    const h = await harness({ messageReadTimeoutMs: 400, connectionLifetimeMs: 60_000 });
    // Timed from before the connect: the proxy times from the accept.
    const started = Date.now();
    const socket = await open(h.proxy.addresses.tcp?.port ?? 0);
    const text = register({ callId: 'slow', branch: 'z9hG4bK-slow', viaTransport: 'TCP' });
    const closed = closedWithin(socket, started);
    let i = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && i < text.length - 1) socket.write(text[i++] ?? '');
    }, 50);
    cleanups.push(() => clearInterval(drip));
    expect(await closed).toBeGreaterThanOrEqual(400);
    expect(h.proxy.connections().tcp?.closedReadTimeout).toBe(1);
    expect(h.proxy.stats.received).toBe(0);
  });

  it('does not let the bytes of an unfinished message renew the idle lifetime, while whole messages do', async () => {
    const h = await harness({ messageReadTimeoutMs: 60_000, connectionLifetimeMs: 500 });
    const port = h.proxy.addresses.tcp?.port ?? 0;
    const started = Date.now();
    const dribbler = await open(port);
    const talker = await open(port);
    const closed = closedWithin(dribbler, started);
    let n = 0;
    const timer = setInterval(() => {
      if (!dribbler.destroyed) dribbler.write('R');
      talker.write(register({ callId: `talk-${n}`, branch: `z9hG4bK-t${n++}`, viaTransport: 'TCP' }));
    }, 100);
    cleanups.push(() => clearInterval(timer));
    expect(await closed).toBeGreaterThanOrEqual(500);
    expect(await keepsOpenFor(talker, 600)).toBe(true);
    expect(h.proxy.connections().tcp).toMatchObject({ closedIdle: 1, closedReadTimeout: 0, open: 1 });
  });

  it('closes an accepted connection that sends nothing within the read timeout', async () => {
    const h = await harness({ messageReadTimeoutMs: 300, connectionLifetimeMs: 60_000 });
    const started = Date.now();
    const silent = await open(h.proxy.addresses.tcp?.port ?? 0);
    expect(await closedWithin(silent, started)).toBeGreaterThanOrEqual(300);
    expect(h.proxy.connections().tcp?.closedReadTimeout).toBe(1);
  });

  it('closes a WebSocket handshake that does not complete within the read timeout', async () => {
    const h = await harness({ messageReadTimeoutMs: 400, connectionLifetimeMs: 60_000 });
    const started = Date.now();
    const socket = await open(h.proxy.addresses.ws?.port ?? 0);
    const closed = closedWithin(socket, started);
    const text = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    let i = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && i < text.length) socket.write(text[i++] ?? '');
    }, 50);
    cleanups.push(() => clearInterval(drip));
    expect(await closed).toBeGreaterThanOrEqual(400);
    expect(h.proxy.connections().ws?.closedReadTimeout).toBe(1);
  });

  it('closes a WebSocket client that dribbles a frame, and keeps one that completes its messages', async () => {
    const h = await harness({ messageReadTimeoutMs: 400, connectionLifetimeMs: 60_000 });
    const port = h.proxy.addresses.ws?.port ?? 0;
    const started = Date.now();
    const slow = await openWs(port);
    const steady = await openWs(port);
    const closed = closedWithin(slow, started);
    const frame = wsFrame('OPTIONS sip:x SIP/2.0\r\n'.repeat(4));
    let i = 0;
    const drip = setInterval(() => {
      if (!slow.destroyed && i < frame.length - 1) slow.write(frame.subarray(i, ++i));
      // A CRLF keep-alive in a frame of its own is a whole message.
      steady.write(wsFrame('\r\n\r\n'));
    }, 50);
    cleanups.push(() => clearInterval(drip));
    expect(await closed).toBeGreaterThanOrEqual(400);
    expect(await keepsOpenFor(steady, 600)).toBe(true);
    expect(h.proxy.connections().ws).toMatchObject({ closedReadTimeout: 1, open: 1 });
  });
});
