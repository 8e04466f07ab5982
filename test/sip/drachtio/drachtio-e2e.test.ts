import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrachtioServe, type DrachtioServe } from '../../../src/sip/drachtio/drachtio-serve.js';
import type { ServeProcess } from '../../e2e/serve-process.js';
import { startDrachtioServer, type DrachtioServerHandle } from '../../support/drachtio-server.js';
import { startKamailio, type KamailioHandle } from '../../support/kamailio.js';
import { drachtioBinary, missingPeers } from '../../support/peer-tools.js';
import { makeTempDir } from '../../support/temp-dirs.js';
import { header, response, startLine } from '../messages.js';
import { UdpPeer, type Received } from '../peers.js';
import { startExample } from './example-process.js';
import { invite, register, sip, World } from './world.js';

/**
 * sipwarden's drachtio mode with a real drachtio-server in the middle: UDP clients on one side, a
 * UDP test peer or Kamailio as the upstream on the other. drachtio-server is in no package
 * registry these machines reach, so this runs only where a `drachtio` binary is found
 * (SIPWARDEN_DRACHTIO, else PATH); without it every suite is skipped, loudly.
 */
const lookup = drachtioBinary();
const noDrachtio = lookup.found ? undefined : `${lookup.reason}; set SIPWARDEN_DRACHTIO to run it`;
const noKamailio = noDrachtio ?? missingPeers();
if (noDrachtio) console.warn(`*** drachtio end-to-end SKIPPED: ${noDrachtio} ***`);
const titled = (title: string, skip: string | undefined): string => (skip ? `${title} (SKIPPED: ${skip})` : title);

const SECRET = 'e2e-secret';

/** The final response to the request with this Call-ID (provisional ones and strays skipped). */
async function finalResponse(peer: UdpPeer, request: string): Promise<Received> {
  const callId = header(request, 'Call-ID');
  for (;;) {
    const r = await peer.next();
    if (header(r.text, 'Call-ID') === callId && !/^SIP\/2\.0 1\d\d /.test(startLine(r.text))) return r;
  }
}

/** The next request a peer receives, answering nothing else on the way (a retransmitted response is skipped). */
async function nextRequest(peer: UdpPeer): Promise<Received> {
  for (;;) {
    const r = await peer.next();
    if (!r.text.startsWith('SIP/2.0 ')) return r;
  }
}

/** RFC 3261 §17.1.1.3: the ACK of a non-2xx final response, on the INVITE's branch. */
function ackFor(request: string, reply: string): string {
  return sip(startLine(request).replace('INVITE', 'ACK').replace(' SIP/2.0', ''), [
    `Via: ${header(request, 'Via') ?? ''}`,
    'Max-Forwards: 70',
    `From: ${header(request, 'From')}`,
    `To: ${header(reply, 'To')}`,
    `Call-ID: ${header(request, 'Call-ID')}`,
    'CSeq: 1 ACK',
  ]);
}

/**
 * drachtio-server learns an application's routes over TCP just before `connect` fires; a request
 * that gets its final answer proves they are live. Bounded: a few attempts.
 */
async function untilAnswered(client: UdpPeer, sipPort: number, make: (attempt: number) => string, onRequest?: () => Promise<void>): Promise<Received> {
  for (let attempt = 1; ; attempt++) {
    const request = make(attempt);
    client.send(request, sipPort);
    try {
      await onRequest?.();
      return await finalResponse(client, request);
    } catch (err) {
      if (attempt >= 3) throw new Error(`drachtio-server never got an answer through: ${String(err)}`);
    }
  }
}

/** A real drachtio-server with `sipwarden serve` (drachtio mode) connected to it, proxying to `upstreamPort`. */
async function startServed(world: World, upstreamPort: number): Promise<{ drachtio: DrachtioServerHandle; served: DrachtioServe }> {
  const drachtio = await startDrachtioServer({ secret: SECRET });
  const served = await startDrachtioServe({
    drachtio: { host: '127.0.0.1', port: drachtio.adminPort, secret: SECRET },
    upstream: { host: '127.0.0.1', port: upstreamPort, transport: 'udp' },
    enforcer: world.enforcer(),
    logger: world.logger,
  });
  await served.whenConnected();
  return { drachtio, served };
}

describe.skipIf(noDrachtio)(titled('drachtio end-to-end', noDrachtio), () => {
  let world: World;
  let drachtio: DrachtioServerHandle | undefined;
  let served: DrachtioServe | undefined;
  let client: UdpPeer;
  let upstream: UdpPeer;
  let sipPort = 0;

  beforeAll(async () => {
    world = await World.open();
    client = await UdpPeer.open('client');
    upstream = await UdpPeer.open('upstream');
    ({ drachtio, served } = await startServed(world, upstream.port));
    sipPort = drachtio.sipPort;
    await untilAnswered(
      client,
      sipPort,
      (attempt) =>
        sip('OPTIONS sip:127.0.0.1', [
          `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-probe${attempt};rport`,
          'Max-Forwards: 70',
          `From: <sip:probe@127.0.0.1>;tag=p${attempt}`,
          'To: <sip:probe@127.0.0.1>',
          `Call-ID: probe-${attempt}@127.0.0.1`,
          'CSeq: 1 OPTIONS',
        ]),
      async () => {
        const proxied = await upstream.next();
        upstream.send(response(proxied.text, 200, 'OK'), proxied.port);
      },
    );
  });

  afterAll(async () => {
    await served?.close();
    await drachtio?.stop();
    await client?.close();
    await upstream?.close();
    await world?.close();
  });

  it('proxies a licensed REGISTER to the upstream and relays its 200', async () => {
    const request = register({ user: '1001' });
    client.send(request, sipPort);
    const proxied = await upstream.next();
    expect(startLine(proxied.text)).toBe('REGISTER sip:intercom.example SIP/2.0');
    expect(header(proxied.text, 'To')).toBe('<sip:1001@intercom.example>');
    upstream.send(response(proxied.text, 200, 'OK'), proxied.port);
    expect(startLine((await finalResponse(client, request)).text)).toBe('SIP/2.0 200 OK');
  });

  it('answers an expired licence with 403 and the reason; nothing reaches the upstream', async () => {
    const request = register({ user: '2001' });
    client.send(request, sipPort);
    const reply = await finalResponse(client, request);
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    expect(header(reply.text, 'X-Sipwarden-Reason')).toBe('license-expired');
    expect(header(reply.text, 'Warning')).toBe('399 sipwarden.test "License has expired"');
    expect(upstream.pending).toBe(0);
  });

  it('passes a Contact: * de-REGISTER of the expired number (RFC 3261 §10.2.2), and drachtio-server survives its 200', async () => {
    const request = register({ user: '2001', contact: '*', expires: 0 });
    client.send(request, sipPort);
    const relayed = await upstream.next();
    expect(startLine(relayed.text)).toBe('REGISTER sip:intercom.example SIP/2.0');
    for (const name of ['Contact', 'Expires', 'To', 'Call-ID', 'CSeq']) expect([name, header(relayed.text, name)]).toEqual([name, header(request, name)]);
    upstream.send(response(relayed.text, 200, 'OK'), relayed.port);
    expect(startLine((await finalResponse(client, request)).text)).toBe('SIP/2.0 200 OK');
    // drachtio-server 0.9.10 crashed here when it proxied this request (SIGSEGV in forwardResponse).
    const next = register({ user: '1001' });
    client.send(next, sipPort);
    const proxied = await upstream.next();
    upstream.send(response(proxied.text, 200, 'OK'), proxied.port);
    expect(startLine((await finalResponse(client, next)).text)).toBe('SIP/2.0 200 OK');
    expect(drachtio?.exitStatus()).toBeUndefined();
  });

  it('refuses an INVITE from the expired number with 403', async () => {
    const request = invite({ from: '2001', to: '1002' });
    client.send(request, sipPort);
    const reply = await finalResponse(client, request);
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    expect(header(reply.text, 'X-Sipwarden-Reason')).toBe('license-expired');
    client.send(ackFor(request, reply.text), sipPort);
    expect(upstream.pending).toBe(0);
  });
});

/**
 * Phones configured with drachtio-server's own address (its IP in the Request-URI), behind it the
 * project's Kamailio registrar, as an intercom installation runs it.
 */
describe.skipIf(noKamailio)(titled('drachtio end-to-end with Kamailio, phones addressing drachtio-server', noKamailio), () => {
  let world: World;
  let drachtio: DrachtioServerHandle | undefined;
  let kamailio: KamailioHandle | undefined;
  let served: DrachtioServe | undefined;
  let door: UdpPeer;
  let phone: UdpPeer;
  let sipPort = 0;

  /** Our address as the phones have it configured: drachtio-server's IP and port. */
  const own = (user: string | null): string => `sip:${user === null ? '' : `${user}@`}127.0.0.1:${sipPort}`;

  /** A REGISTER of `user` from the phone, sent to drachtio-server's address. */
  function phoneRegister(user: string, options: { contact?: string; expires?: number; callId?: string; cseq?: number } = {}): string {
    let raw = register({ user, contact: options.contact ?? `<sip:${user}@127.0.0.1:${phone.port}>`, expires: options.expires ?? 600 });
    raw = raw.replace('REGISTER sip:intercom.example', `REGISTER ${own(null)}`);
    if (options.callId !== undefined) raw = raw.replace(/^Call-ID: .*$/m, `Call-ID: ${options.callId}`);
    if (options.cseq !== undefined) raw = raw.replace(/^CSeq: .*$/m, `CSeq: ${options.cseq} REGISTER`);
    return raw;
  }

  /** The door calls `to` at drachtio-server's address. */
  function doorCall(to: string): string {
    return invite({ from: '1001', to }).replace(`INVITE sip:${to}@intercom.example`, `INVITE ${own(to)}`);
  }

  beforeAll(async () => {
    world = await World.open();
    door = await UdpPeer.open('door');
    phone = await UdpPeer.open('phone');
    kamailio = await startKamailio({ config: 'registrar' });
    ({ drachtio, served } = await startServed(world, kamailio.port));
    sipPort = drachtio.sipPort;
  });

  afterAll(async () => {
    await served?.close();
    await drachtio?.stop();
    await kamailio?.stop();
    await door?.close();
    await phone?.close();
    await world?.close();
  });

  /** The door calls `to`; the phone answers 486 if the call reaches it. Returns what the phone got (or null) and the door's final response. */
  async function call(to: string, reachesPhone: boolean): Promise<{ atPhone: string | null; final: string }> {
    const request = doorCall(to);
    door.send(request, sipPort);
    let atPhone: string | null = null;
    if (reachesPhone) {
      const arrived = await nextRequest(phone);
      atPhone = arrived.text;
      phone.send(response(arrived.text, 486, 'Busy Here'), arrived.port);
    }
    const final = (await finalResponse(door, request)).text;
    door.send(ackFor(request, final), sipPort);
    return { atPhone, final };
  }

  it('a phone registered through drachtio-server’s address is called by its number (Request-URI user kept)', async () => {
    const reg = await untilAnswered(phone, sipPort, () => phoneRegister('1002'));
    expect(startLine(reg.text)).toBe('SIP/2.0 200 OK');
    // Before: drachtio-server replaced `sip:1002@<its address>` by `sip:<Kamailio>`, and Kamailio
    // answered 484 Address Incomplete.
    const { atPhone, final } = await call('1002', true);
    expect(startLine(atPhone ?? '')).toBe(`INVITE sip:1002@127.0.0.1:${phone.port} SIP/2.0`);
    expect(startLine(final)).toBe('SIP/2.0 486 Busy Here');
  });

  it('a Contact: * de-REGISTER removes every binding at Kamailio, and drachtio-server survives it', async () => {
    const callId = `dereg-${Date.now()}@127.0.0.1`;
    const first = phoneRegister('1003', { callId, cseq: 1 });
    phone.send(first, sipPort);
    expect(startLine((await finalResponse(phone, first)).text)).toBe('SIP/2.0 200 OK');
    const second = phoneRegister('1003', { callId: `${callId}-b`, cseq: 1, contact: `<sip:1003@127.0.0.1:${door.port}>` });
    phone.send(second, sipPort);
    expect(startLine((await finalResponse(phone, second)).text)).toBe('SIP/2.0 200 OK');

    const removeAll = phoneRegister('1003', { callId, cseq: 2, contact: '*', expires: 0 });
    phone.send(removeAll, sipPort);
    expect(startLine((await finalResponse(phone, removeAll)).text)).toBe('SIP/2.0 200 OK');
    expect(drachtio?.exitStatus()).toBeUndefined();

    // Both bindings are gone: Kamailio has nobody to relay to.
    const { final } = await call('1003', false);
    expect(startLine(final)).toBe('SIP/2.0 404 Not Found');
    expect(drachtio?.exitStatus()).toBeUndefined();
  });
});

/** The documented middleware example (docs/drachtio.md) as an application against a real drachtio-server. */
describe.skipIf(noKamailio)(titled('drachtio end-to-end: the documented middleware example', noKamailio), () => {
  let world: World;
  let drachtio: DrachtioServerHandle | undefined;
  let kamailio: KamailioHandle | undefined;
  let example: ServeProcess | undefined;
  let phone: UdpPeer;

  beforeAll(async () => {
    world = await World.open();
    phone = await UdpPeer.open('phone');
    kamailio = await startKamailio({ config: 'registrar' });
    drachtio = await startDrachtioServer({ secret: SECRET });
  });

  afterAll(async () => {
    await example?.stop(5000);
    await drachtio?.stop();
    await kamailio?.stop();
    await phone?.close();
    await world?.close();
  });

  it('enforces, relays Contact: *, and stops cleanly after drachtio-server went down', async () => {
    const d = drachtio as DrachtioServerHandle;
    example = startExample(makeTempDir('example'), {
      SIPWARDEN_DB: world.t.path,
      DRACHTIO_PORT: String(d.adminPort),
      DRACHTIO_SECRET: SECRET,
      REGISTRAR_HOST: '127.0.0.1',
      REGISTRAR_PORT: String((kamailio as KamailioHandle).port),
    });
    await example.waitForLine((l) => l.msg === 'connected to drachtio-server', 'the connection');
    const to = (raw: string): string => raw.replace(/<sip:(\d+)@127\.0\.0\.1:5099>/, `<sip:$1@127.0.0.1:${phone.port}>`);

    // The example decides on the real clock, past the test licences' window: 1001 is refused.
    const refused = await untilAnswered(phone, d.sipPort, () => to(register({ user: '1001' })));
    expect(startLine(refused.text)).toBe('SIP/2.0 403 Forbidden');
    expect(header(refused.text, 'X-Sipwarden-Reason')).toBe('license-expired');
    // A number sipwarden does not know passes (DESIGN.md §2), and so does its de-REGISTER.
    const known = to(register({ user: '5555' }));
    phone.send(known, d.sipPort);
    expect(startLine((await finalResponse(phone, known)).text)).toBe('SIP/2.0 200 OK');
    const removeAll = register({ user: '5555', contact: '*', expires: 0 });
    phone.send(removeAll, d.sipPort);
    expect(startLine((await finalResponse(phone, removeAll)).text)).toBe('SIP/2.0 200 OK');
    expect(d.exitStatus()).toBeUndefined();

    await d.stop();
    await example.waitForLine((l) => l.msg === 'lost the connection to drachtio-server; reconnecting', 'the lost connection');
    await example.waitForLine((l) => l.msg === 'cannot connect to drachtio-server; retrying', 'a refused reconnection');
    expect(await example.stop(5000)).toEqual({ code: 0, signal: null });
    expect(example.stderr()).toBe('');
  });
});
