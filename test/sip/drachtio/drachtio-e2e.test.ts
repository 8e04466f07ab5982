import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrachtioServe, type DrachtioServe } from '../../../src/sip/drachtio/serve.js';
import { startProcess, type ManagedProcess } from '../../support/managed-process.js';
import { findExecutable } from '../../support/peer-tools.js';
import { freePorts } from '../../support/ports.js';
import { isBoundOnLoopback } from '../../support/socket-listening.js';
import { makeTempDir } from '../../support/temp-dirs.js';
import { header, response, startLine } from '../messages.js';
import { UdpPeer, type Received } from '../peers.js';
import { invite, register, sip, World } from './world.js';

/**
 * sipwarden's `serve` in drachtio mode between a UDP client and a UDP upstream, with a real
 * drachtio-server in the middle. drachtio-server is not in any package registry these machines
 * reach, so this runs only where a `drachtio` binary is installed (DRACHTIO_BIN or PATH).
 */
const lookup = findExecutable('drachtio', 'DRACHTIO_BIN');
const bin = lookup.found ? lookup.path : undefined;
const title = bin ? 'drachtio end-to-end' : 'drachtio end-to-end (SKIPPED: no drachtio binary; set DRACHTIO_BIN)';
if (!bin) console.warn(`*** drachtio end-to-end SKIPPED: ${lookup.found ? '' : lookup.reason}; set DRACHTIO_BIN to run it ***`);

const SECRET = 'e2e-secret';

function drachtioConfig(adminPort: number, sipPort: number): string {
  return `<drachtio>
  <admin port="${adminPort}" secret="${SECRET}">127.0.0.1</admin>
  <sip>
    <contacts>
      <contact>sip:127.0.0.1:${sipPort};transport=udp</contact>
    </contacts>
  </sip>
  <logging>
    <console/>
    <loglevel>info</loglevel>
    <sofia-loglevel>3</sofia-loglevel>
  </logging>
</drachtio>
`;
}

/** Bounded wait for drachtio-server's admin (TCP) and SIP (UDP) ports; fails fast if it exits. */
async function waitForDrachtio(proc: ManagedProcess, adminPort: number, sipPort: number, logPath: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(isBoundOnLoopback(adminPort, 'tcp') && isBoundOnLoopback(sipPort, 'udp'))) {
    if (proc.exitStatus()) throw new Error(`drachtio-server exited: ${JSON.stringify(proc.exitStatus())}; see ${logPath}`);
    if (Date.now() > deadline) throw new Error(`drachtio-server did not listen on ${adminPort}/tcp and ${sipPort}/udp; see ${logPath}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The final response to the request with this Call-ID (provisional ones and strays skipped). */
async function finalResponse(peer: UdpPeer, request: string): Promise<Received> {
  const callId = header(request, 'Call-ID');
  for (;;) {
    const r = await peer.next();
    if (header(r.text, 'Call-ID') === callId && !/^SIP\/2\.0 1\d\d /.test(startLine(r.text))) return r;
  }
}

describe.skipIf(!bin)(title, () => {
  let world: World;
  let proc: ManagedProcess | undefined;
  let served: DrachtioServe | undefined;
  let client: UdpPeer;
  let upstream: UdpPeer;
  let sipPort = 0;

  beforeAll(async () => {
    world = new World();
    client = await UdpPeer.open('client');
    upstream = await UdpPeer.open('upstream');
    const [adminPort = 0, port = 0] = await freePorts(2);
    sipPort = port;
    const dir = makeTempDir('drachtio');
    const configPath = join(dir, 'drachtio.conf.xml');
    const logPath = join(dir, 'drachtio.log');
    writeFileSync(configPath, drachtioConfig(adminPort, sipPort));
    proc = startProcess(bin ?? 'drachtio', ['-f', configPath], { cwd: dir, stdoutPath: logPath, stderrPath: logPath });
    await waitForDrachtio(proc, adminPort, sipPort, logPath);

    served = await startDrachtioServe({
      drachtio: { host: '127.0.0.1', port: adminPort, secret: SECRET },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'udp' },
      enforcer: world.enforcer(),
      logger: world.logger,
    });
    await served.whenConnected();
    await untilRoutesAreLive();
  });

  afterAll(async () => {
    await served?.close();
    await proc?.stop();
    await client?.close();
    await upstream?.close();
    world?.close();
  });

  /**
   * drachtio-server learns our routes over TCP just before `connect` fires; an OPTIONS that reaches
   * the upstream proves they are live. Bounded: a few attempts, each waiting at most the peer's
   * receive guard.
   */
  async function untilRoutesAreLive(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const probe = sip('OPTIONS sip:127.0.0.1', [
        `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-probe${attempt};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=p${attempt}`,
        'To: <sip:probe@127.0.0.1>',
        `Call-ID: probe-${attempt}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
      ]);
      client.send(probe, sipPort);
      try {
        const proxied = await upstream.next();
        upstream.send(response(proxied.text, 200, 'OK'), proxied.port);
        await finalResponse(client, probe);
        return;
      } catch (err) {
        if (attempt >= 3) throw new Error(`drachtio-server never proxied an OPTIONS to the upstream: ${String(err)}`);
      }
    }
  }

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

  it('passes a de-REGISTER of the expired number (RFC 3261 §10.2.2)', async () => {
    const request = register({ user: '2001', contact: '*', expires: 0 });
    client.send(request, sipPort);
    const proxied = await upstream.next();
    expect(startLine(proxied.text)).toBe('REGISTER sip:intercom.example SIP/2.0');
    upstream.send(response(proxied.text, 200, 'OK'), proxied.port);
    expect(startLine((await finalResponse(client, request)).text)).toBe('SIP/2.0 200 OK');
  });

  it('refuses an INVITE from the expired number with 403', async () => {
    const request = invite({ from: '2001', to: '1002' });
    client.send(request, sipPort);
    const reply = await finalResponse(client, request);
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    expect(header(reply.text, 'X-Sipwarden-Reason')).toBe('license-expired');
    // RFC 3261 §17.1.1.3: the ACK of a non-2xx final response, on the INVITE's branch.
    client.send(sip(startLine(request).replace('INVITE', 'ACK').replace(' SIP/2.0', ''), [
      `Via: ${header(request, 'Via') ?? ''}`,
      'Max-Forwards: 70',
      `From: ${header(request, 'From')}`,
      `To: ${header(reply.text, 'To')}`,
      `Call-ID: ${header(request, 'Call-ID')}`,
      'CSeq: 1 ACK',
    ]), sipPort);
    expect(upstream.pending).toBe(0);
  });
});
