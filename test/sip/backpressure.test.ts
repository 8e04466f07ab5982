import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startEmbeddedProxy } from '../../src/sip/proxy/embedded-proxy.js';
import { startHarness, type Harness } from './harness.js';
import { register, request } from './messages.js';
import { UdpPeer } from './peers.js';

/**
 * Issue 8 item 1: a peer that stops reading must not make the proxy buffer without bound. Each
 * test floods a connection whose peer never reads, with messages large enough that the kernel's
 * socket buffers (a few MB on loopback) fill within a few hundred of them, and checks what the
 * proxy holds for that connection, then that it closed and counted it.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WRITE_QUEUE_MAX = 256 * 1024;
/** Bound on the flood: 1,500 × 30 KB = 45 MB, ten times what the kernel buffers take. */
const MAX_MESSAGES = 1500;
const PAD = 'x'.repeat(30_000);

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ connections: { connectionWriteQueueMax: WRITE_QUEUE_MAX }, ...options });
  cleanups.push(() => h.close());
  return h;
}

/** An OPTIONS to the proxy itself, answered 200 by it with the (30 KB) Via copied back. */
function bigOptions(port: number, transport: string, i: number): string {
  return request({
    method: 'OPTIONS',
    uri: `sip:127.0.0.1:${port}`,
    headers: [
      `Via: SIP/2.0/${transport} 127.0.0.1:5099;branch=z9hG4bK-bp${i};rport;pad=${PAD}`,
      'Max-Forwards: 70',
      'From: <sip:mon@h>;tag=1',
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: bp-${i}`,
      `CSeq: ${i + 1} OPTIONS`,
    ],
  });
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('backpressure (issue 8 item 1)', () => {
  it('closes and counts a TCP client that stops reading, never holding more than connectionWriteQueueMax for it', async () => {
    const h = await harness();
    const port = h.proxy.addresses.tcp?.port ?? 0;
    const client = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    cleanups.push(() => client.destroy());
    client.pause(); // never reads what the proxy sends
    let failed = false;
    client.on('error', () => {
      failed = true;
    });
    let maxQueued = 0;
    let sent = 0;
    while (!failed && !client.destroyed && sent < MAX_MESSAGES) {
      client.write(bigOptions(port, 'TCP', sent++));
      await tick();
      maxQueued = Math.max(maxQueued, h.proxy.connections().tcp?.queuedBytes ?? 0);
      if ((h.proxy.connections().tcp?.closedWriteQueue ?? 0) > 0) break;
    }
    const report = h.proxy.connections().tcp;
    expect(report?.closedWriteQueue, `closed after ${sent} requests`).toBe(1);
    expect(report?.open).toBe(0);
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(WRITE_QUEUE_MAX);
    expect(sent).toBeLessThan(MAX_MESSAGES);
  });

  it('closes and counts a WebSocket client that stops reading', async () => {
    const h = await harness();
    const port = h.proxy.addresses.ws?.port ?? 0;
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['sip']);
    cleanups.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.pause(); // stops reading the socket
    ws.on('error', () => undefined);
    let maxQueued = 0;
    let sent = 0;
    while (ws.readyState === WebSocket.OPEN && sent < MAX_MESSAGES) {
      ws.send(bigOptions(port, 'WS', sent++));
      await tick();
      maxQueued = Math.max(maxQueued, h.proxy.connections().ws?.queuedBytes ?? 0);
      if ((h.proxy.connections().ws?.closedWriteQueue ?? 0) > 0) break;
    }
    const report = h.proxy.connections().ws;
    expect(report?.closedWriteQueue, `closed after ${sent} requests`).toBe(1);
    expect(report?.open).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(WRITE_QUEUE_MAX);
    expect(sent).toBeLessThan(MAX_MESSAGES);
  });

  it('closes and counts a TCP upstream that stops reading, and opens a fresh connection for what follows', async () => {
    // An upstream that accepts connections and never reads them.
    const held: Socket[] = [];
    const upstream: Server = createServer((socket) => {
      socket.pause();
      socket.on('error', () => undefined);
      held.push(socket);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    cleanups.push(() => held.forEach((s) => s.destroy()));
    const upstreamPort = (upstream.address() as { port: number }).port;
    const proxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstreamPort, transport: 'tcp' },
      connections: { connectionWriteQueueMax: WRITE_QUEUE_MAX },
    });
    cleanups.push(() => proxy.close());
    const client = await UdpPeer.open('client');
    cleanups.push(() => client.close());
    const udpPort = proxy.addresses.udp?.port ?? 0;
    let maxQueued = 0;
    let sent = 0;
    while (sent < MAX_MESSAGES && proxy.connections().tcp?.closedWriteQueue === 0) {
      // Paced, so that the proxy's UDP receive buffer never overflows: every request is handled.
      for (let k = 0; k < 4; k++, sent++) {
        client.send(register({ callId: `up-${sent}`, branch: `z9hG4bK-up${sent}` }, [`X-Pad: ${PAD}`]), udpPort);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
      maxQueued = Math.max(maxQueued, proxy.connections().tcp?.queuedBytes ?? 0);
    }
    expect(proxy.connections().tcp?.closedWriteQueue, `closed after ${sent} requests`).toBe(1);
    expect(maxQueued).toBeLessThanOrEqual(WRITE_QUEUE_MAX);
    // Requests that no longer fit were not sent: they were dropped (and counted), not queued.
    expect(proxy.stats.dropped).toBeGreaterThan(0);
    // The next request opens a new connection.
    const before = held.length;
    client.send(register({ callId: 'after', branch: 'z9hG4bK-after' }), udpPort);
    for (let i = 0; i < 200 && held.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(held.length).toBe(before + 1);
  });
});
