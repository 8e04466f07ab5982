import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { header, register, startLine } from './messages.js';
import { TcpClient } from './peers.js';

/** Issue 8 item 3: a request too large for the next hop is answered 513, never lost in silence. */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(() => h.close());
  return h;
}

describe('513 Message Too Large (issue 8 item 3)', () => {
  /** A REGISTER padded with an X-Pad header to `size` bytes. */
  function padded(size: number, transport: string, callId: string): string {
    const base = register({ callId, branch: `z9hG4bK-${callId}`, viaTransport: transport }, ['X-Pad: ']);
    return base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(size - Buffer.byteLength(base))}`);
  }

  it('answers 513 to a UDP request that our Via and Path make larger than a datagram', async () => {
    const h = await harness();
    const text = padded(65_400, 'UDP', 'too-big-udp');
    expect(Buffer.byteLength(text)).toBe(65_400);
    h.client.send(text, h.port);
    const reply = await h.client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 513 Message Too Large');
    expect(header(reply.text, 'Call-ID')).toBe('too-big-udp');
    expect(h.proxy.stats.tooLarge).toBe(1);
    expect(h.upstream.pending).toBe(0);
    // A request that still fits goes through.
    h.client.send(padded(60_000, 'UDP', 'fits'), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('fits');
  });

  it('answers 513 on the connection to a TCP request too large for the UDP upstream', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    await client.write(padded(65_450, 'TCP', 'too-big-tcp'));
    const reply = await client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 513 Message Too Large');
    expect(header(reply.text, 'Call-ID')).toBe('too-big-tcp');
    expect(h.proxy.stats.tooLarge).toBe(1);
  });
});
