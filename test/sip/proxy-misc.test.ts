import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { header, register, request, startLine } from './messages.js';
import { TcpClient } from './peers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  cleanups.push(() => h.close());
  return h;
}

describe('embedded proxy: the rest', () => {
  it('answers an OPTIONS addressed to the proxy itself, and forwards one addressed to a user', async () => {
    const h = await harness();
    const options = (uri: string, callId: string) =>
      request({
        method: 'OPTIONS',
        uri,
        headers: [`Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${callId};rport`, 'Max-Forwards: 70', 'From: <sip:mon@h>;tag=1', `To: <${uri}>`, `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS'],
      });
    h.client.send(options(`sip:127.0.0.1:${h.port}`, 'ping-proxy'), h.port);
    const pong = await h.client.next();
    expect(startLine(pong.text)).toBe('SIP/2.0 200 OK');
    expect(header(pong.text, 'Call-ID')).toBe('ping-proxy');
    h.client.send(options(`sip:1001@127.0.0.1:${h.port}`, 'ping-user'), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('ping-user');
  });

  it('refuses TCP connections past maxConnections and keeps serving the ones it has', async () => {
    const h = await harness({ connections: { maxConnections: 1 } });
    const port = h.proxy.addresses.tcp?.port ?? 0;
    const first = await TcpClient.connect(port);
    cleanups.push(() => first.close());
    const second = await TcpClient.connect(port);
    cleanups.push(() => second.close());
    await second.closed;
    await first.write(register({ callId: 'kept', branch: 'z9hG4bK-k', viaTransport: 'TCP' }));
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('kept');
  });

  it('logs each message at debug as JSON with the call-id, and never the credentials', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
        done();
      },
    });
    const h = await harness({ logger: pino({ level: 'debug' }, sink) });
    const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    h.client.send(register({ callId: 'logged-1', branch: 'z9hG4bK-l1' }, [`Authorization: Digest username="1001", realm="intercom.example", nonce="n0nce", uri="sip:intercom.example", response="${secret}"`]), h.port);
    await h.upstream.next();
    h.client.send(register({ callId: 'logged-2', branch: 'z9hG4bK-l2' }).replace('Call-ID: logged-2\r\n', ''), h.port);
    await h.client.next();
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.msg === 'request forwarded')).toMatchObject({ level: 20, method: 'REGISTER', callId: 'logged-1' });
    // One shape of source (and target) in every line, as in the decision lines: transport:address:port.
    const withSource = records.filter((r) => r.source !== undefined);
    expect(withSource.length).toBeGreaterThan(0);
    for (const r of withSource) expect(r.source, JSON.stringify(r)).toMatch(/^udp:127\.0\.0\.1:\d+$/);
    expect(records.find((r) => r.msg === 'request forwarded')?.target).toMatch(/^udp:127\.0\.0\.1:\d+$/);
    expect(records.find((r) => r.msg === 'bad request answered 400')).toMatchObject({ problem: 'missing Call-ID' });
    expect(records.find((r) => r.msg === 'embedded SIP proxy listening')).toMatchObject({ level: 30 });
    expect(lines.some((l) => l.includes(secret) || l.includes('n0nce'))).toBe(false);
  });

  it('releases its ports on close', async () => {
    const h = await startHarness();
    const port = h.port;
    const tcpPort = h.proxy.addresses.tcp?.port ?? 0;
    await h.close();
    const again = await harness({ listen: { udp: { host: '127.0.0.1', port }, tcp: { host: '127.0.0.1', port: tcpPort } } });
    expect(again.proxy.addresses).toEqual({ udp: { host: '127.0.0.1', port }, tcp: { host: '127.0.0.1', port: tcpPort } });
  });
});
