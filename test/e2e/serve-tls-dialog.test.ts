import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { header, headers, request, response, startLine } from '../sip/messages.js';
import { nonProvisional, TcpClient } from '../sip/peers.js';
import { kamailioTlsMissing, startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePort } from '../support/ports.js';
import { opensslMissing } from '../support/test-ca.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { renewAndReload, serveTlsFolder, type ServeTlsFolder } from './serve-tls-files.js';
import { started } from './sidecar-fixture.js';
import { newToken } from './udp-sip-client.js';

/*
 * Issue 11 item 5, "reloaded on SIGHUP without dropping calls", on the real daemon: two door
 * panels on SIP/TLS connections to `sipwarden serve`, which reaches Kamailio over TLS; both
 * registered through it, so Kamailio reaches each by the Path it stored: over TLS to the
 * sidecar's TLS listener (a connection Kamailio opened, also served with the old certificate),
 * then on the panel's own connection (RFC 5626 §4.4). Panel 1001 calls 1002 twice
 * (INVITE/200/ACK); the certificate files are renewed and serve gets SIGHUP; then the BYE of one
 * call goes from caller to callee and the BYE of the other from callee to caller, over the
 * connections opened before the reload, and each is answered 200. A handshake after the reload
 * gets the renewed certificate.
 */

const missing = missingPeers() ?? kamailioTlsMissing() ?? opensslMissing();
if (missing) console.warn(`\n*** test/e2e/serve-tls-dialog.test.ts SKIPPED: ${missing} ***\n`);

/** One side of a TLS connection to the sidecar, registered as `user`. */
interface Panel {
  readonly user: string;
  readonly connection: TcpClient;
  /** Its Contact: the address of its end of the connection, which nobody can connect to. */
  readonly contact: string;
  readonly via: () => string;
}

/** What one side of a dialog needs to send a request in it (RFC 3261 §12.2.1.1). */
interface DialogSide {
  readonly panel: Panel;
  readonly remoteTarget: string;
  readonly routeSet: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
}

describe.skipIf(missing !== undefined)(`calls over TLS survive a SIGHUP of serve with a renewed certificate${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let serve: ServeProcess | undefined;
  let folder: ServeTlsFolder | undefined;
  let tlsPort = 0;
  const connections: TcpClient[] = [];

  beforeAll(async () => {
    folder = serveTlsFolder('serve-tls-dialog');
    const { dir, database, ca, tls } = folder;
    registrar = await startKamailio({ config: 'registrar', tls: ca.issue('kamailio.test', ['kamailio.test', '127.0.0.1']) });
    tlsPort = await freePort();
    const config = writeConfig(dir, {
      database,
      log: { level: 'info' },
      sip: {
        listen: { tls: { host: '127.0.0.1', port: tlsPort } },
        tls,
        upstream: { host: '127.0.0.1', port: registrar.tlsPort, transport: 'tls', tls: { caList: ca.caCertificate, serverName: 'kamailio.test' } },
      },
    });
    serve = spawnServe(dir, config);
    await waitUntilServing(serve);
  }, 60_000);
  afterAll(async () => {
    for (const c of connections) c.close();
    await serve?.stop();
    await registrar?.stop();
  });

  async function connect(): Promise<TcpClient> {
    const connection = await TcpClient.connect(tlsPort, { ca: started(folder).ca.caPem, servername: 'sidecar.test' });
    connections.push(connection);
    return connection;
  }

  async function registered(user: string): Promise<Panel> {
    const connection = await connect();
    const sentBy = `127.0.0.1:${connection.localPort}`;
    const panel: Panel = {
      user,
      connection,
      contact: `sip:${user}@${sentBy};transport=tls`,
      via: () => `Via: SIP/2.0/TLS ${sentBy};rport;branch=z9hG4bK${newToken()}`,
    };
    await connection.write(
      request({
        method: 'REGISTER',
        uri: 'sip:127.0.0.1',
        headers: [
          panel.via(),
          'Max-Forwards: 70',
          `From: <sip:${user}@127.0.0.1>;tag=${newToken()}`,
          `To: <sip:${user}@127.0.0.1>`,
          `Call-ID: ${newToken()}@tls-dialog-reg`,
          'CSeq: 1 REGISTER',
          `Contact: <${panel.contact}>`,
          'Expires: 600',
        ],
      }),
    );
    expect(startLine((await nonProvisional(() => connection.next())).text)).toBe('SIP/2.0 200 OK');
    return panel;
  }

  /** `caller` calls `callee` through the sidecar and Kamailio: INVITE, 200, ACK. */
  async function call(caller: Panel, callee: Panel): Promise<{ caller: DialogSide; callee: DialogSide }> {
    const callId = `${newToken()}@tls-dialog`;
    const from = `<sip:${caller.user}@127.0.0.1>;tag=${newToken()}`;
    await caller.connection.write(
      request({
        method: 'INVITE',
        uri: `sip:${callee.user}@127.0.0.1`,
        headers: [caller.via(), 'Max-Forwards: 70', `From: ${from}`, `To: <sip:${callee.user}@127.0.0.1>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <${caller.contact}>`],
      }),
    );
    const invite = await callee.connection.next();
    expect(startLine(invite.text)).toBe(`INVITE ${callee.contact} SIP/2.0`);
    expect(header(invite.text, 'Call-ID')).toBe(callId);
    const answer = response(invite.text, 200, 'OK', [`Contact: <${callee.contact}>`]);
    await callee.connection.write(answer);
    const ok = await nonProvisional(() => caller.connection.next());
    expect(startLine(ok.text)).toBe('SIP/2.0 200 OK');
    const to = header(ok.text, 'To') ?? '';
    expect(to).toMatch(/;tag=/);
    const recordRoute = (text: string): string[] => headers(text, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/));
    // RFC 3261 §12.1.2: the caller's route set is the 2xx's Record-Route reversed; §12.1.1: the
    // callee's is the INVITE's Record-Route in order.
    const callerSide: DialogSide = { panel: caller, remoteTarget: callee.contact, routeSet: recordRoute(ok.text).reverse(), from, to, callId };
    const calleeSide: DialogSide = { panel: callee, remoteTarget: caller.contact, routeSet: recordRoute(invite.text), from: to, to: from, callId };
    expect(callerSide.routeSet.length).toBeGreaterThanOrEqual(2);
    await caller.connection.write(inDialog(callerSide, 'ACK', 1));
    const ack = await callee.connection.next();
    expect(startLine(ack.text)).toBe(`ACK ${callee.contact} SIP/2.0`);
    expect(header(ack.text, 'Call-ID')).toBe(callId);
    return { caller: callerSide, callee: calleeSide };
  }

  function inDialog(side: DialogSide, method: string, cseq: number): string {
    return request({
      method,
      uri: side.remoteTarget,
      headers: [
        side.panel.via(),
        'Max-Forwards: 70',
        `From: ${side.from}`,
        `To: ${side.to}`,
        `Call-ID: ${side.callId}`,
        `CSeq: ${cseq} ${method}`,
        ...side.routeSet.map((r) => `Route: ${r}`),
      ],
    });
  }

  /** `side` hangs up; the other side hears the BYE on its connection and answers 200, which comes back. */
  async function hangUp(side: DialogSide, other: DialogSide): Promise<void> {
    await side.panel.connection.write(inDialog(side, 'BYE', 2));
    const bye = await other.panel.connection.next();
    expect(startLine(bye.text)).toBe(`BYE ${other.panel.contact} SIP/2.0`);
    expect(header(bye.text, 'Call-ID')).toBe(side.callId);
    await other.panel.connection.write(response(bye.text, 200, 'OK'));
    const ok = await nonProvisional(() => side.panel.connection.next());
    expect(startLine(ok.text)).toBe('SIP/2.0 200 OK');
    expect(header(ok.text, 'CSeq')).toBe('2 BYE');
    expect(header(ok.text, 'Call-ID')).toBe(side.callId);
  }

  it('two calls set up before the reload end by BYE after it, caller to callee and callee to caller; a new handshake gets the renewed certificate', async () => {
    const s = started(serve);
    const f = started(folder);
    const { first, renewed } = f;
    const door = await registered('1001');
    const flat = await registered('1002');
    expect(door.connection.peerCertificate()?.fingerprint256).toBe(first.fingerprint256);
    const one = await call(door, flat);
    const two = await call(door, flat);

    const reloaded = await renewAndReload(f, s);
    expect(reloaded).toMatchObject({ certificate: { fingerprint256: renewed.fingerprint256 } });

    await hangUp(one.caller, one.callee);
    await hangUp(two.callee, two.caller);

    const after = await connect();
    expect(after.peerCertificate()?.fingerprint256).toBe(renewed.fingerprint256);
    // The connections from before the reload still carry the certificate they were set up with.
    expect(door.connection.peerCertificate()?.fingerprint256).toBe(first.fingerprint256);
    expect(s.exitStatus()).toBeUndefined();
  }, 60_000);
});
