import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedProxy } from '../../src/sip/proxy/embedded-proxy.js';
import { FORWARD, type GateContext, type Verdict } from '../../src/sip/proxy/gate.js';
import type { SipMessage } from '../../src/sip/message/sip-message.js';
import { startHarness, type Harness } from './harness.js';
import { header, headers, invite, register, request, response, startLine } from './messages.js';
import { TcpClient, TcpServerPeer, UdpPeer } from './peers.js';

/*
 * What the proxy trusts (issue 7 items 7, 8, 9), tried from the wire as an attacker would, with
 * real sockets: requests that claim the upstream's address, INVITEs with a To tag of their own
 * making, copied flow tokens, and Via `alias` on TCP. And what must keep working: calls from the
 * upstream to clients through Path and Record-Route, and responses.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const REFUSE: Verdict = { action: 'reply', status: 403, reason: 'Forbidden', headers: [['X-Sipwarden-Reason', 'license-expired']] };

/** A gate that refuses every INVITE and records what it was asked. */
function recordingGate(asked: Array<{ method: string; callId: string | null; context: GateContext }>) {
  return (m: SipMessage, context: GateContext): Verdict => {
    asked.push({ method: m.method, callId: m.callId, context });
    return m.method === 'INVITE' ? REFUSE : FORWARD;
  };
}

async function harness(asked: Array<{ method: string; callId: string | null; context: GateContext }>): Promise<Harness> {
  const h = await startHarness({ gate: recordingGate(asked) });
  cleanups.push(() => h.close());
  return h;
}

async function peer(name: string): Promise<UdpPeer> {
  const p = await UdpPeer.open(name);
  cleanups.push(() => p.close());
  return p;
}

/** A request the upstream must see next: proves that what was sent before it went nowhere. */
function marker(n: string): string {
  return request({
    method: 'OPTIONS',
    uri: 'sip:intercom.example',
    headers: ['Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-mark-' + n + ';rport', 'Max-Forwards: 70', 'From: <sip:m@h>;tag=m', 'To: <sip:x@h>', `Call-ID: marker-${n}`, 'CSeq: 1 OPTIONS'],
  });
}

describe('in-dialog look-alikes (issue 7 item 7)', () => {
  it('puts an INVITE with a made-up To tag and a Route naming the upstream to the gate, and sends nothing on', async () => {
    const asked: Array<{ method: string; callId: string | null; context: GateContext }> = [];
    const h = await harness(asked);
    const fake = invite({ callId: 'lookalike', branch: 'z9hG4bK-la1', toTag: 'made-up' }, [`Route: <sip:127.0.0.1:${h.upstream.port};lr>`]);
    h.client.send(fake, h.port);
    const reply = await h.client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    // RFC 3261 §8.2.6.2: the To tag the request came with is kept.
    expect(header(reply.text, 'To')).toBe('<sip:1002@intercom.example>;tag=made-up');
    expect(asked.map((a) => [a.method, a.callId, a.context.direction])).toEqual([['INVITE', 'lookalike', 'from-client']]);
    // Its ACK is absorbed too (same branch as the refused INVITE), not relayed.
    h.client.send(invite({ callId: 'lookalike', branch: 'z9hG4bK-la1', toTag: 'made-up' }, [], 'ACK'), h.port);
    h.client.send(marker('la'), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('marker-la');
    expect(h.proxy.stats.acksAbsorbed).toBe(1);
  });

  it('lets a re-INVITE of a dialog it routed pass unasked, but not one whose dialog token is copied into another call', async () => {
    const asked: Array<{ method: string; callId: string | null; context: GateContext }> = [];
    const h = await startHarness({ gate: (m, context) => (asked.push({ method: m.method, callId: m.callId, context }), FORWARD) });
    cleanups.push(() => h.close());
    const ids = { callId: 'dialog-1', branch: 'z9hG4bK-d1', fromTag: 'caller-tag' };
    h.client.send(invite(ids), h.port);
    const up = await h.upstream.next();
    const rr = headers(up.text, 'Record-Route')[0] ?? '';
    expect(rr).toMatch(/^<sip:[A-Za-z0-9_-]{40,}@/);
    h.upstream.send(response(up.text, 200, 'OK'), h.port);
    await h.client.next();

    // A re-INVITE in that dialog, with the route set the 200 gave: relayed without asking.
    h.client.send(invite({ ...ids, branch: 'z9hG4bK-d2', toTag: 'uas1', cseq: 2 }, [`Route: ${rr}`]), h.port);
    const reinvite = await h.upstream.next();
    expect(header(reinvite.text, 'Call-ID')).toBe('dialog-1');
    expect(asked.map((a) => a.callId)).toEqual(['dialog-1']);

    // The same Route in an INVITE of another Call-ID, or with another caller tag, proves nothing: asked.
    h.client.send(invite({ callId: 'dialog-2', branch: 'z9hG4bK-d3', fromTag: 'caller-tag', toTag: 'uas1' }, [`Route: ${rr}`]), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('dialog-2');
    h.client.send(invite({ callId: 'dialog-1', branch: 'z9hG4bK-d4', fromTag: 'other-tag', toTag: 'someone' }, [`Route: ${rr}`]), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('dialog-1');
    expect(asked.map((a) => a.callId)).toEqual(['dialog-1', 'dialog-2', 'dialog-1']);
  });
});

describe('trust by address (issue 7 item 8)', () => {
  it('does not relay a to-tagged request from the upstream address to its Request-URI: without a flow token it goes to the upstream, gated as a client request', async () => {
    const asked: Array<{ method: string; callId: string | null; context: GateContext }> = [];
    const h = await harness(asked);
    const victim = await peer('victim');
    // Sent from the upstream's own socket: exactly what a spoofed UDP source looks like.
    const spoofed = invite({ callId: 'spoof-1', branch: 'z9hG4bK-sp1', toTag: 'x', sentBy: `127.0.0.1:${h.upstream.port}` }, [
      `Route: <sip:127.0.0.1:${h.port};lr>`,
    ]).replace('INVITE sip:1002@intercom.example', `INVITE sip:1002@127.0.0.1:${victim.port}`);
    h.upstream.send(spoofed, h.port);
    const reply = await h.upstream.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    expect(asked[0]?.context.direction).toBe('from-client');
    // Nor a BYE (never gated): it goes to the upstream, not to the victim.
    h.upstream.send(spoofed.replace(/INVITE/g, 'BYE').replace('z9hG4bK-sp1', 'z9hG4bK-sp2'), h.port);
    const bye = await h.upstream.next();
    expect(startLine(bye.text)).toBe(`BYE sip:1002@127.0.0.1:${victim.port} SIP/2.0`);
    expect(victim.pending).toBe(0);
  });

  it('still routes the upstream to a client by the Path token and the Record-Route token, and its responses back', async () => {
    const asked: Array<{ method: string; callId: string | null; context: GateContext }> = [];
    const h = await startHarness({ gate: (m, context) => (asked.push({ method: m.method, callId: m.callId, context }), FORWARD) });
    cleanups.push(() => h.close());
    h.client.send(register({ callId: 'reg-t', branch: 'z9hG4bK-rt' }), h.port);
    const reg = await h.upstream.next();
    const path = header(reg.text, 'Path') ?? '';
    h.upstream.send(response(reg.text, 200, 'OK'), h.port);
    expect(startLine((await h.client.next()).text)).toBe('SIP/2.0 200 OK');

    const call = invite({ callId: 'to-client', branch: 'z9hG4bK-tc', fromTag: 'door', sentBy: `127.0.0.1:${h.upstream.port}` }, [`Route: ${path}`]).replace(
      'INVITE sip:1002@intercom.example',
      'INVITE sip:1001@10.0.0.5:5099',
    );
    h.upstream.send(call, h.port);
    const atClient = await h.client.next();
    expect(startLine(atClient.text)).toBe('INVITE sip:1001@10.0.0.5:5099 SIP/2.0');
    expect(asked.at(-1)?.context.direction).toBe('from-upstream');
    const rr = headers(atClient.text, 'Record-Route')[0] ?? '';
    h.client.send(response(atClient.text, 200, 'OK'), h.port);
    expect(startLine((await h.upstream.next()).text)).toBe('SIP/2.0 200 OK');

    // The door hangs up: the upstream sends the BYE along the route set, to the client's flow.
    const bye = request({
      method: 'BYE',
      uri: 'sip:1001@10.0.0.5:5099',
      headers: [`Via: SIP/2.0/UDP 127.0.0.1:${h.upstream.port};branch=z9hG4bK-tcb`, `Route: ${rr}`, 'Max-Forwards: 70', 'From: "Door" <sip:1002@intercom.example>;tag=door', 'To: <sip:1001@intercom.example>;tag=uas1', 'Call-ID: to-client', 'CSeq: 2 BYE'],
    });
    h.upstream.send(bye, h.port);
    expect(startLine((await h.client.next()).text)).toBe('BYE sip:1001@10.0.0.5:5099 SIP/2.0');
  });

  it('over a TCP upstream, a TCP client on the upstream host with a Route naming the sidecar still goes to the upstream', async () => {
    const upstream = await TcpServerPeer.open();
    cleanups.push(() => upstream.close());
    const victim = await peer('victim');
    const proxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'tcp' },
    });
    cleanups.push(() => proxy.close());
    const tcpPort = proxy.addresses.tcp?.port ?? 0;
    const attacker = await TcpClient.connect(tcpPort);
    cleanups.push(() => attacker.close());
    const text = request({
      method: 'MESSAGE',
      uri: `sip:1002@127.0.0.1:${victim.port}`,
      headers: [`Via: SIP/2.0/TCP 127.0.0.1:${attacker.localPort};branch=z9hG4bK-tcpa`, `Route: <sip:127.0.0.1:${tcpPort};transport=tcp;lr>`, 'Max-Forwards: 70', 'From: <sip:5001@h>;tag=a', 'To: <sip:1002@h>;tag=b', 'Call-ID: tcp-attack', 'CSeq: 1 MESSAGE'],
    });
    await attacker.write(text);
    const up = await upstream.next();
    expect(header(up.text, 'Call-ID')).toBe('tcp-attack');
    expect(victim.pending).toBe(0);

    // The upstream itself, on the connection the proxy opened to it, is trusted: its request goes by Request-URI.
    upstream.reply(up.port, text.replace('Call-ID: tcp-attack', 'Call-ID: from-upstream').replace(`Via: SIP/2.0/TCP 127.0.0.1:${attacker.localPort}`, `Via: SIP/2.0/TCP 127.0.0.1:${upstream.port}`));
    const atVictim = await victim.next();
    expect(header(atVictim.text, 'Call-ID')).toBe('from-upstream');
  });
});

describe('Via alias on streams (issue 7 item 9)', () => {
  it("does not let a TCP client's alias take another client's responses", async () => {
    const h = await startHarness();
    cleanups.push(() => h.close());
    const tcpPort = h.proxy.addresses.tcp?.port ?? 0;
    const victim = await TcpClient.connect(tcpPort);
    cleanups.push(() => victim.close());
    const attacker = await TcpClient.connect(tcpPort);
    cleanups.push(() => attacker.close());
    await victim.write(register({ callId: 'victim-reg', branch: 'z9hG4bK-v1', viaTransport: 'TCP' }));
    const up = await h.upstream.next();
    // The attacker claims the victim's address and port as its own, with alias (RFC 5923).
    await attacker.write(register({ callId: 'alias-reg', branch: 'z9hG4bK-a1', viaTransport: 'TCP', sentBy: `127.0.0.1:${victim.localPort};alias` }));
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('alias-reg');
    h.upstream.send(response(up.text, 200, 'OK'), h.port);
    const back = await victim.next();
    expect(header(back.text, 'Call-ID')).toBe('victim-reg');
  });

  it("does not let a client's alias of the TCP upstream's address draw other clients' REGISTERs", async () => {
    const upstream = await TcpServerPeer.open();
    cleanups.push(() => upstream.close());
    const proxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'tcp' },
    });
    cleanups.push(() => proxy.close());
    const attacker = await TcpClient.connect(proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => attacker.close());
    await attacker.write(register({ callId: 'alias-up', branch: 'z9hG4bK-au', viaTransport: 'TCP', sentBy: `127.0.0.1:${upstream.port};alias` }));
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('alias-up');
    const client = await UdpPeer.open('client');
    cleanups.push(() => client.close());
    client.send(register({ callId: 'with-credentials', branch: 'z9hG4bK-wc' }, ['Authorization: Digest username="1001", realm="x", nonce="n", uri="sip:x", response="00"']), proxy.addresses.udp?.port ?? 0);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('with-credentials');
  });
});
