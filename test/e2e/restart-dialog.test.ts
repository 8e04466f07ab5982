import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning } from '../cli/cli-harness.js';
import { header, headers, request, response, startLine } from '../sip/messages.js';
import { nonProvisional, TcpClient, TcpServerPeer, UdpPeer, WsClient, type Received } from '../sip/peers.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePorts } from '../support/ports.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { newToken } from './udp-sip-client.js';

/*
 * Dialogs survive a restart of `sipwarden serve` (issue 9 item 3): a door panel registered
 * directly on Kamailio calls a client registered through the sidecar (so the call comes back
 * through it by the stored Path); the sidecar is stopped and started again on the same ports and
 * database mid-call; the door's BYE, routed by the Record-Route set before the restart, still
 * reaches the client (a UDP one behind NAT by its flow). The flow tokens in Path and
 * Record-Route are sealed with the key that `sipwarden init` kept in the database. A TCP client's
 * connection ends with the old process: the BYE reaches it by a new connection to its TCP Contact.
 * A WebSocket client cannot be connected to: it reconnects and registers again with its RFC 5626
 * instance, and the BYE follows it to the new connection.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/restart-dialog.test.ts SKIPPED: ${missing} ***\n`);

/** A client of the sidecar: sends on `send`, receives requests on `next`. */
interface Client {
  readonly user: string;
  /** Via transport token and sent-by. */
  readonly via: string;
  /** Its Contact URI (where requests for it are addressed). */
  readonly contactUri: string;
  /** Extra Contact header parameters of its REGISTER. */
  readonly contactParams: string;
  /** The port of the sidecar's listener it talks to. */
  readonly sidecarPort: number;
  send(text: string): Promise<void>;
  next(): Promise<Received>;
  /** Answers a request it received, on the way it came. */
  answer(req: Received, text: string): Promise<void>;
  /** The sidecar restarted: a stream client's connection to it is gone. */
  restarted(): Promise<void>;
}

function registerText(c: Client): string {
  return request({
    method: 'REGISTER',
    uri: 'sip:127.0.0.1',
    headers: [
      `Via: SIP/2.0/${c.via};rport;branch=z9hG4bK${newToken()}`,
      'Max-Forwards: 70',
      `From: <sip:${c.user}@127.0.0.1>;tag=${newToken()}`,
      `To: <sip:${c.user}@127.0.0.1>`,
      `Call-ID: ${newToken()}@restart-reg`,
      'CSeq: 1 REGISTER',
      `Contact: <${c.contactUri}>${c.contactParams}`,
      'Supported: path, outbound',
      'Expires: 600',
    ],
  });
}

describe.skipIf(missing !== undefined)(`a dialog across a restart of serve${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let w: CliWorld | undefined;
  let registrar: KamailioHandle | undefined;
  let serve: ServeProcess | undefined;
  let configPath = '';
  let udpPort = 0;
  let tcpPort = 0;
  let wsPort = 0;
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    w = await new CliWorld().init();
    registrar = await startKamailio({ config: 'registrar' });
    [udpPort = 0, tcpPort = 0, wsPort = 0] = await freePorts(3);
    configPath = writeConfig(w.dir, {
      database: w.db,
      sip: {
        listen: { udp: { host: '127.0.0.1', port: udpPort }, tcp: { host: '127.0.0.1', port: tcpPort }, ws: { host: '127.0.0.1', port: wsPort } },
        upstream: { host: '127.0.0.1', port: registrar.port, transport: 'udp' },
      },
    });
  }, 60_000);
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await serve?.stop();
    serve = undefined;
  });
  afterAll(async () => {
    await registrar?.stop();
    killRunning();
    w?.remove();
  });

  async function startServe(): Promise<void> {
    if (w === undefined) throw new Error('no world');
    serve = spawnServe(w.dir, configPath);
    await waitUntilServing(serve);
  }

  /**
   * A UDP client behind NAT: its Contact (127.0.0.2, where nothing listens) is not the address it
   * sends from, so only its flow, named by the sealed token, reaches it.
   */
  async function udpClient(): Promise<Client> {
    const peer = await UdpPeer.open('udp client');
    closers.push(() => peer.close());
    return {
      user: '7101',
      via: `UDP 127.0.0.2:${peer.port}`,
      contactUri: `sip:7101@127.0.0.2:${peer.port}`,
      contactParams: '',
      sidecarPort: udpPort,
      send: async (text) => peer.send(text, udpPort),
      next: () => peer.next(),
      answer: async (_req, text) => peer.send(text, udpPort),
      restarted: async () => undefined,
    };
  }

  /**
   * Sends on a connection to the sidecar, listens on its own port (its Contact): its connection
   * ends with the old process, so it is reached by a new connection to its Contact.
   */
  async function tcpClient(): Promise<Client> {
    const listener = await TcpServerPeer.open();
    closers.push(() => listener.close());
    const connection = await TcpClient.connect(tcpPort);
    closers.push(() => connection.close());
    let restarted = false;
    return {
      user: '7102',
      via: `TCP 127.0.0.1:${listener.port}`,
      contactUri: `sip:7102@127.0.0.1:${listener.port};transport=tcp`,
      contactParams: '',
      sidecarPort: tcpPort,
      send: (text) => connection.write(text),
      next: () => (restarted ? listener.next() : connection.next()),
      answer: async (req, text) => {
        if (restarted) listener.reply(req.port, text);
        else await connection.write(text);
      },
      restarted: async () => {
        restarted = true;
      },
    };
  }

  /**
   * A WebSocket client (RFC 7118) with an RFC 5626 instance: nobody can connect to it, so after
   * the restart it connects again and registers again, as sip.js and mobile apps do, and the
   * dialog follows it to its new connection.
   */
  async function wsClient(): Promise<Client> {
    let ws = await WsClient.connect(wsPort);
    closers.push(() => ws.close());
    const client: Client = {
      user: '7103',
      via: 'WS df7jal23ls0d.invalid',
      contactUri: 'sip:7103@df7jal23ls0d.invalid;transport=ws',
      contactParams: `;+sip.instance="<urn:uuid:${randomUUID()}>";reg-id=1`,
      sidecarPort: wsPort,
      send: async (text) => ws.send(text),
      next: () => ws.next(),
      answer: async (_req, text) => ws.send(text),
      restarted: async () => {
        ws = await WsClient.connect(wsPort);
        closers.push(() => ws.close());
        ws.send(registerText(client));
        expect(startLine((await nonProvisional(() => ws.next())).text)).toBe('SIP/2.0 200 OK');
      },
    };
    return client;
  }

  it.each(['udp', 'tcp', 'ws'] as const)('a %s client hears the BYE of a call set up before the restart', async (transport) => {
    if (registrar === undefined) throw new Error('no registrar');
    await startServe();
    const client = transport === 'udp' ? await udpClient() : transport === 'tcp' ? await tcpClient() : await wsClient();
    const user = client.user;
    const viaTransport = transport.toUpperCase();

    await client.send(registerText(client));
    expect(startLine((await nonProvisional(() => client.next())).text)).toBe('SIP/2.0 200 OK');

    // The door, registered nowhere but talking to Kamailio directly, calls the client.
    const door = await UdpPeer.open('door');
    closers.push(() => door.close());
    const callId = `${newToken()}@restart-call`;
    const doorTag = newToken();
    const common = [`From: <sip:door@127.0.0.1>;tag=${doorTag}`, `Call-ID: ${callId}`, 'Max-Forwards: 70'];
    door.send(
      request({
        method: 'INVITE',
        uri: `sip:${user}@127.0.0.1:${registrar.port}`,
        headers: [`Via: SIP/2.0/UDP 127.0.0.1:${door.port};rport;branch=z9hG4bK${newToken()}`, ...common, `To: <sip:${user}@127.0.0.1>`, 'CSeq: 1 INVITE', `Contact: <sip:door@127.0.0.1:${door.port}>`],
      }),
      registrar.port,
    );
    const invite = await client.next();
    expect(startLine(invite.text)).toMatch(/^INVITE /);
    // It came through the sidecar (its Via on top), by the Path stored at the registrar.
    expect(headers(invite.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/${viaTransport} 127\\.0\\.0\\.1:${client.sidecarPort};`));
    await client.answer(invite, response(invite.text, 200, 'OK', [`Contact: <${client.contactUri}>`]));
    const ok = await nonProvisional(() => door.next());
    expect(startLine(ok.text)).toBe('SIP/2.0 200 OK');
    const toWithTag = header(ok.text, 'To') ?? '';
    // RFC 3261 §12.1.2: the caller's route set is the Record-Route of the 2xx, in reverse.
    const routeSet = headers(ok.text, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse();
    expect(routeSet.length).toBeGreaterThanOrEqual(2);
    const inDialog = (method: string, cseq: number): string =>
      request({
        method,
        uri: client.contactUri,
        headers: [`Via: SIP/2.0/UDP 127.0.0.1:${door.port};rport;branch=z9hG4bK${newToken()}`, ...common, `To: ${toWithTag}`, `CSeq: ${cseq} ${method}`, ...routeSet.map((r) => `Route: ${r}`)],
      });
    door.send(inDialog('ACK', 1), registrar.port);
    expect(startLine((await client.next()).text)).toMatch(/^ACK /);

    // Restart mid-call: same ports, same database.
    await serve?.stop();
    await startServe();
    await client.restarted();

    door.send(inDialog('BYE', 2), registrar.port);
    const bye = await client.next();
    expect(startLine(bye.text)).toBe(`BYE ${client.contactUri} SIP/2.0`);
    expect(header(bye.text, 'Call-ID')).toBe(callId);
    await client.answer(bye, response(bye.text, 200, 'OK'));
    const byeOk = await nonProvisional(() => door.next());
    expect(startLine(byeOk.text)).toBe('SIP/2.0 200 OK');
    expect(header(byeOk.text, 'CSeq')).toBe('2 BYE');
  });
});
