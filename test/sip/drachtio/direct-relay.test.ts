import { afterEach, describe, expect, it } from 'vitest';
import { startDrachtioServe, type DrachtioServe } from '../../../src/sip/drachtio/drachtio-serve.js';
import type { UpstreamTarget } from '../../../src/sip/drachtio/upstream-uri.js';
import { freePort } from '../../support/ports.js';
import { header, headers, response, startLine } from '../messages.js';
import { TcpServerPeer, UdpPeer } from '../peers.js';
import { Srf } from './drachtio-harness.js';
import { FakeDrachtioServer, type ClientCommand } from './fake-drachtio-server.js';
import { register, World } from './world.js';

/**
 * A REGISTER with `Contact: *` in drachtio mode. drachtio-server 0.9.10 crashes when it proxies
 * one (and when it sends one as a new request), so `serve` sends it to the upstream from its own
 * socket and answers the client through drachtio-server. Here: drachtio-srf's real client against
 * the drachtio-server stand-in, and a real UDP or TCP upstream.
 */
describe('serve: Contact: * de-REGISTERs go to the upstream past drachtio-server', () => {
  let world: World;
  let server: FakeDrachtioServer;
  let served: DrachtioServe | undefined;
  const peers: { close(): unknown }[] = [];
  let txn = 0;

  async function start(upstream: UpstreamTarget): Promise<void> {
    world = await World.open();
    server = await FakeDrachtioServer.start({ secret: 's' });
    served = await startDrachtioServe({ drachtio: { host: '127.0.0.1', port: server.port, secret: 's' }, upstream, enforcer: world.enforcer(), logger: world.logger });
    await served.whenConnected();
  }

  afterEach(async () => {
    await served?.close();
    await server.close();
    for (const peer of peers.splice(0)) await peer.close();
    await world.close();
  });

  /** Delivers a request as drachtio-server would; returns its transaction id. */
  function deliver(raw: string): string {
    const id = `t-${++txn}`;
    server.deliver(raw, id);
    return id;
  }

  /** What the client answered drachtio-server for transaction `id`. */
  async function answerTo(id: string): Promise<ClientCommand> {
    return server.command((c) => (c.verb === 'sip' || c.verb === 'proxy') && c.args[0] === id, `the answer to ${id}`, 10_000);
  }

  const credentials = 'Digest username="2001", realm="intercom.example", nonce="n1", uri="sip:intercom.example", response="0123456789abcdef0123456789abcdef"';

  it('over UDP: the client’s request with our Via on top; the final response back to the client with the headers it acts on', async () => {
    const upstream = await UdpPeer.open('upstream');
    peers.push(upstream);
    await start({ host: '127.0.0.1', port: upstream.port, transport: 'udp' });
    const request = register({ user: '2001', contact: '*', expires: 0, extra: [`Authorization: ${credentials}`] });
    const id = deliver(request);

    const got = await upstream.next();
    expect(startLine(got.text)).toBe('REGISTER sip:intercom.example SIP/2.0');
    const vias = headers(got.text, 'Via');
    expect(vias[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${got.port};branch=z9hG4bKsw[0-9a-f]{16}$`));
    expect(vias.slice(1)).toEqual(headers(request, 'Via'));
    for (const name of ['From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires', 'Authorization']) expect([name, header(got.text, name)]).toEqual([name, header(request, name)]);
    expect(header(got.text, 'Max-Forwards')).toBe('69');
    expect(server.commands.filter((c) => c.verb === 'proxy')).toEqual([]);

    upstream.send(response(got.text, 401, 'Unauthorized', ['WWW-Authenticate: Digest realm="intercom.example", nonce="n2", stale=true', 'Expires: 3600', 'Server: registrar']), got.port);
    const answer = new Srf.SipMessage((await answerTo(id)).body);
    expect([answer.status, answer.reason]).toEqual([401, 'Unauthorized']);
    expect(answer.get('WWW-Authenticate')).toBe('Digest realm="intercom.example", nonce="n2", stale=true');
    expect(answer.get('Server')).toBe('registrar');
    expect(answer.get('Call-ID')).toBe(header(request, 'Call-ID'));
    // Never an Expires: drachtio-server would read it to cache a connection under the Contact
    // host that `*` does not have.
    expect(answer.has('Expires')).toBe(false);
  });

  it('over UDP: sent again while unanswered (Timer E), one answer to the client', async () => {
    const upstream = await UdpPeer.open('upstream');
    peers.push(upstream);
    await start({ host: '127.0.0.1', port: upstream.port, transport: 'udp' });
    const id = deliver(register({ contact: '*', expires: 0 }));
    const first = await upstream.next();
    const again = await upstream.next();
    expect(again.text).toBe(first.text);
    upstream.send(response(first.text, 200, 'OK'), first.port);
    expect(new Srf.SipMessage((await answerTo(id)).body).status).toBe(200);
    expect(server.commands.filter((c) => c.args[0] === id)).toHaveLength(1);
  });

  it('over TCP, as the upstream is configured', async () => {
    const upstream = await TcpServerPeer.open();
    peers.push(upstream);
    await start({ host: '127.0.0.1', port: upstream.port, transport: 'tcp' });
    const id = deliver(register({ contact: '*', expires: 0 }));
    const got = await upstream.next();
    expect(header(got.text, 'Via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bKsw/);
    upstream.reply(got.port, response(got.text, 200, 'OK'));
    expect(new Srf.SipMessage((await answerTo(id)).body).status).toBe(200);
  });

  it('answers 500 when the upstream cannot be reached, 483 when Max-Forwards is used up', async () => {
    await start({ host: '127.0.0.1', port: await freePort(), transport: 'tcp' });
    const unreachable = deliver(register({ contact: '*', expires: 0 }));
    expect(new Srf.SipMessage((await answerTo(unreachable)).body).status).toBe(500);
    expect(world.logs.withMsg('cannot reach the upstream; answering 500').at(-1)).toMatchObject({ level: 40 });

    const spent = deliver(register({ contact: '*', expires: 0 }).replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    expect(new Srf.SipMessage((await answerTo(spent)).body).status).toBe(483);
  });

  it('still proxies every other REGISTER through drachtio-server, de-REGISTERs with a Contact too', async () => {
    await start({ host: '127.0.0.1', port: 5070, transport: 'udp' });
    const answer = await answerTo(deliver(register({ contact: '<sip:1001@127.0.0.1:5099>;expires=0' })));
    expect(answer.verb).toBe('proxy');
  });
});
