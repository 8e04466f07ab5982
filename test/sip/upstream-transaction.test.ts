import { afterEach, describe, expect, it } from 'vitest';
import type { OwnVia } from '../../src/sip/proxy/forward-request.js';
import { runNonInviteTransaction } from '../../src/sip/proxy/upstream-transaction.js';
import { freePort } from '../support/ports.js';
import { header, response } from './messages.js';
import { TcpServerPeer, UdpPeer } from './peers.js';

/** An OPTIONS with the transaction's Via, as `build` makes it. */
function options(via: OwnVia): Buffer {
  return Buffer.from(
    `OPTIONS sip:registrar.example SIP/2.0\r\nVia: SIP/2.0/${via.transport.toUpperCase()} ${via.host}:${via.port};branch=${via.branch};rport\r\n` +
      'Max-Forwards: 70\r\nFrom: <sip:probe@example>;tag=a\r\nTo: <sip:registrar.example>\r\nCall-ID: t-1@example\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
  );
}

/** Timers short enough that retransmissions show within a test (not a speed assertion). */
const FAST = { t1Ms: 40, t2Ms: 160, timeoutMs: 3000 };

describe('runNonInviteTransaction (RFC 3261 §17.1.2)', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const peer of open.splice(0)) await peer.close();
  });

  it('over UDP sends again until answered, the same bytes each time, and resolves with the final response', async () => {
    const upstream = await UdpPeer.open('upstream');
    open.push(upstream);
    const outcome = runNonInviteTransaction({ transport: 'udp', host: '127.0.0.1', port: upstream.port }, options, FAST);
    const copies = [await upstream.next(), await upstream.next(), await upstream.next()];
    expect(new Set(copies.map((c) => c.text)).size).toBe(1);
    const via = header(copies[0]?.text ?? '', 'Via') ?? '';
    expect(via).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${copies[0]?.port};branch=z9hG4bKsw[0-9a-f]{16};rport$`));
    upstream.send(response(copies[0]?.text ?? '', 100, 'Trying'), copies[0]?.port ?? 0);
    upstream.send(response(copies[0]?.text ?? '', 200, 'OK', ['Server: test']), copies[0]?.port ?? 0);
    const settled = await outcome;
    expect(settled.kind).toBe('response');
    if (settled.kind === 'response') expect([settled.response.status, settled.response.header('Server')]).toEqual([200, ['test']]);
  });

  it('ignores a response for another branch', async () => {
    const upstream = await UdpPeer.open('upstream');
    open.push(upstream);
    const outcome = runNonInviteTransaction({ transport: 'udp', host: '127.0.0.1', port: upstream.port }, options, FAST);
    const request = await upstream.next();
    const stray = response(request.text, 500, 'Stray').replace(/branch=[^;\r]+/, 'branch=z9hG4bK-other');
    upstream.send(stray, request.port);
    upstream.send(response(request.text, 403, 'Forbidden'), request.port);
    const settled = await outcome;
    expect(settled.kind === 'response' ? settled.response.status : settled.kind).toBe(403);
  });

  it('gives up at Timer F when nothing answers', async () => {
    const upstream = await UdpPeer.open('upstream');
    open.push(upstream);
    expect(await runNonInviteTransaction({ transport: 'udp', host: '127.0.0.1', port: upstream.port }, options, { ...FAST, timeoutMs: 300 })).toEqual({ kind: 'timeout' });
    expect(upstream.pending).toBeGreaterThan(1);
  });

  it('over TCP sends once and reads the response off the stream, split or not', async () => {
    const upstream = await TcpServerPeer.open();
    open.push(upstream);
    const outcome = runNonInviteTransaction({ transport: 'tcp', host: '127.0.0.1', port: upstream.port }, options, FAST);
    const request = await upstream.next();
    expect(header(request.text, 'Via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bKsw/);
    const answer = response(request.text, 200, 'OK');
    upstream.reply(request.port, answer.slice(0, 30));
    await new Promise((resolve) => setTimeout(resolve, 50));
    upstream.reply(request.port, answer.slice(30));
    const settled = await outcome;
    expect(settled.kind === 'response' ? settled.response.status : settled.kind).toBe(200);
  });

  it('reports a transport error when the upstream cannot be reached', async () => {
    const closed = await freePort();
    const tcp = await runNonInviteTransaction({ transport: 'tcp', host: '127.0.0.1', port: closed }, options, FAST);
    expect(tcp.kind).toBe('transport-error');
    // A connected UDP socket learns of the ICMP port unreachable (Linux) as ECONNREFUSED.
    const udp = await runNonInviteTransaction({ transport: 'udp', host: '127.0.0.1', port: closed }, options, FAST);
    expect(udp.kind).toBe('transport-error');
  });
});
