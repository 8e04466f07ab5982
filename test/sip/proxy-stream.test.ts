import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedProxy, type EmbeddedProxy } from '../../src/sip/proxy/embedded-proxy.js';
import { startHarness, type Harness } from './harness.js';
import { header, headers, invite, register, response, startLine } from './messages.js';
import { TcpClient, TcpServerPeer, UdpPeer, WsClient } from './peers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(() => h.close());
  return h;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('embedded proxy over TCP', () => {
  it('frames two requests in one chunk and sends each response back on the client connection', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    const a = register({ callId: 'tcp-a', branch: 'z9hG4bK-ta', viaTransport: 'TCP' });
    const b = register({ callId: 'tcp-b', branch: 'z9hG4bK-tb', viaTransport: 'TCP', cseq: 2 });
    await client.write(a + b);
    const upA = await h.upstream.next();
    const upB = await h.upstream.next();
    expect([header(upA.text, 'Call-ID'), header(upB.text, 'Call-ID')]).toEqual(['tcp-a', 'tcp-b']);
    // The stream client's Via always gets received and rport: they name its connection.
    expect(headers(upA.text, 'Via')[1]).toBe(`SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-ta;received=127.0.0.1;rport=${client.localPort}`);
    expect(headers(upA.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${h.port};`));

    h.upstream.send(response(upB.text, 200, 'OK'), h.port);
    h.upstream.send(response(upA.text, 200, 'OK'), h.port);
    const first = await client.next();
    const second = await client.next();
    expect([header(first.text, 'Call-ID'), header(second.text, 'Call-ID')]).toEqual(['tcp-b', 'tcp-a']);
    expect(startLine(first.text)).toBe('SIP/2.0 200 OK');
    expect(headers(first.text, 'Via')).toHaveLength(1);
  });

  it('joins one request split over several segments', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    const text = invite({ callId: 'tcp-split', branch: 'z9hG4bK-ts', viaTransport: 'TCP' });
    const cut1 = text.indexOf('Call-ID');
    const cut2 = text.length - 7;
    await client.write(text.slice(0, cut1));
    await pause(20);
    await client.write(text.slice(cut1, cut2));
    await pause(20);
    await client.write(text.slice(cut2));
    const up = await h.upstream.next();
    expect(header(up.text, 'Call-ID')).toBe('tcp-split');
    expect(up.text.endsWith('m=audio 4000 RTP/AVP 0\r\n')).toBe(true);
    // A TCP request leaving on UDP gets two Record-Routes: one per side (RFC 5658).
    const rr = headers(up.text, 'Record-Route');
    expect(rr).toHaveLength(2);
    expect(rr[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${h.port};transport=udp;lr>$`));
    expect(rr[1]).toMatch(new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${h.proxy.addresses.tcp?.port};transport=tcp;lr>$`));
  });

  it('answers a CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    await client.write('\r\n\r\n');
    expect((await client.nextChunk()).text).toBe('\r\n');
  });

  it('answers 400 on the connection to a request without Content-Length', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    const noLength = register({ callId: 'tcp-nocl', branch: 'z9hG4bK-n', viaTransport: 'TCP' }).replace('Content-Length: 0\r\n', '');
    await client.write(noLength);
    const reply = await client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 400 Bad Request');
    expect(header(reply.text, 'Warning')).toContain('missing Content-Length');
  });

  it('forwards to a TCP upstream over one connection and relays its responses', async () => {
    const upstream = await TcpServerPeer.open();
    cleanups.push(() => upstream.close());
    const client = await UdpPeer.open('client');
    cleanups.push(() => client.close());
    const proxy: EmbeddedProxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'tcp' },
    });
    cleanups.push(() => proxy.close());
    const port = proxy.addresses.udp?.port ?? 0;
    client.send(register({ callId: 'to-tcp-1', branch: 'z9hG4bK-u1' }), port);
    client.send(register({ callId: 'to-tcp-2', branch: 'z9hG4bK-u2', cseq: 2 }), port);
    const one = await upstream.next();
    const two = await upstream.next();
    expect(one.port).toBe(two.port);
    expect(headers(one.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2.0/TCP 127\\.0\\.0\\.1:${proxy.addresses.tcp?.port};branch=`));
    expect(header(one.text, 'Path')).toContain(';transport=tcp;lr>');
    upstream.reply(one.port, response(one.text, 200, 'OK'));
    const back = await client.next();
    expect(startLine(back.text)).toBe('SIP/2.0 200 OK');
    expect(header(back.text, 'Call-ID')).toBe('to-tcp-1');
  });

  it('closes a connection that sends an oversized message', async () => {
    const h = await harness();
    const client = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => client.close());
    const huge = register({ callId: 'huge', branch: 'z9hG4bK-h', viaTransport: 'TCP' }).replace('Content-Length: 0', 'Content-Length: 100000');
    await client.write(huge);
    await client.closed;
    // The proxy still serves other connections.
    const other = await TcpClient.connect(h.proxy.addresses.tcp?.port ?? 0);
    cleanups.push(() => other.close());
    await other.write(register({ callId: 'after-huge', branch: 'z9hG4bK-h2', viaTransport: 'TCP' }));
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('after-huge');
  });
});

describe('embedded proxy over WebSocket (RFC 7118)', () => {
  it('relays a REGISTER round trip on the client connection, as text frames', async () => {
    const h = await harness();
    const ws = await WsClient.connect(h.proxy.addresses.ws?.port ?? 0);
    cleanups.push(() => ws.close());
    expect(ws.protocol).toBe('sip');
    ws.send(
      register({ callId: 'ws-1', branch: 'z9hG4bK-w1', viaTransport: 'WS', sentBy: 'df7jal23ls0d.invalid' }, [
        'Supported: path, outbound',
      ]).replace('Contact: <sip:1001@10.0.0.5:5099>', 'Contact: <sip:1001@df7jal23ls0d.invalid;transport=ws;pn-provider=fcm;pn-prid=t1>;+sip.instance="<urn:uuid:0c1a3f9e-1111-4a4a-9c9c-123456789abc>"'),
    );
    const up = await h.upstream.next();
    const vias = headers(up.text, 'Via');
    expect(vias[1]).toMatch(/^SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bK-w1;received=127\.0\.0\.1;rport=\d+$/);
    expect(header(up.text, 'Path')).toContain(`@127.0.0.1:${h.port};transport=udp;lr>`);
    h.upstream.send(response(up.text, 200, 'OK'), h.port);
    const back = await ws.next();
    expect(startLine(back.text)).toBe('SIP/2.0 200 OK');
    expect(header(back.text, 'Call-ID')).toBe('ws-1');
  });

  it('refuses a handshake that does not offer the sip subprotocol', async () => {
    const h = await harness();
    await expect(WsClient.connect(h.proxy.addresses.ws?.port ?? 0, 'chat')).rejects.toThrow(/400/);
  });

  it('reaches a WebSocket client with a call from the upstream through the Path flow token', async () => {
    const h = await harness();
    const ws = await WsClient.connect(h.proxy.addresses.ws?.port ?? 0);
    cleanups.push(() => ws.close());
    ws.send(register({ callId: 'ws-reg', branch: 'z9hG4bK-w2', viaTransport: 'WS', sentBy: 'abc.invalid' }).replace('Contact: <sip:1001@10.0.0.5:5099>', 'Contact: <sip:1001@abc.invalid;transport=ws>'));
    const reg = await h.upstream.next();
    const path = header(reg.text, 'Path') ?? '';
    // The registrar routes an incoming call through the stored Path (RFC 3327 §5.3).
    const call = invite({ callId: 'to-app', branch: 'z9hG4bK-up1', sentBy: `127.0.0.1:${h.upstream.port}` }, [`Route: ${path}`]).replace(
      'INVITE sip:1002@intercom.example SIP/2.0',
      'INVITE sip:1001@abc.invalid;transport=ws SIP/2.0',
    );
    h.upstream.send(call, h.port);
    const atApp = await ws.next();
    expect(startLine(atApp.text)).toBe('INVITE sip:1001@abc.invalid;transport=ws SIP/2.0');
    expect(headers(atApp.text, 'Route')).toEqual([]);
    expect(headers(atApp.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2.0/WS 127\\.0\\.0\\.1:${h.proxy.addresses.ws?.port};branch=`));
    // Record-Route for both sides; the WebSocket side carries the app's flow token.
    const rr = headers(atApp.text, 'Record-Route');
    expect(rr).toHaveLength(2);
    expect(rr[0]).toMatch(/^<sip:[^@]+@127\.0\.0\.1:\d+;transport=ws;lr>$/);
    expect(rr[1]).toBe(`<sip:127.0.0.1:${h.port};transport=udp;lr>`);
    ws.send(response(atApp.text, 180, 'Ringing'));
    const ringing = await h.upstream.next();
    expect(startLine(ringing.text)).toBe('SIP/2.0 180 Ringing');
    expect(headers(ringing.text, 'Via')).toHaveLength(1);
  });
});
