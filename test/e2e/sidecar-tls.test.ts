import { randomUUID } from 'node:crypto';
import { Registerer, RegistererState, UserAgent, type Core } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { kamailioTlsMissing, startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { makeTestCa, opensslMissing, type TestCa } from '../support/test-ca.js';
import { LAPSED, OPEN_FROM, OPEN_UNTIL, SUNRISE } from './projects.js';
import { RawSipClient, registerFrom } from './raw-sip.js';
import { started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { within as waitFor } from './within.js';

/*
 * TLS end to end, with a CA the test makes: Kamailio listens on TLS (its tls module), the sidecar
 * reaches it over TLS and checks its certificate against that CA; apps come in over secure
 * WebSocket (onsip sip.js, `wss://`) and door panels over SIP/TLS (a node:tls client: SIPp 3.6.1
 * in Debian is built without TLS).
 */

type IncomingResponse = Core.IncomingResponse;

const missing = missingPeers() ?? kamailioTlsMissing() ?? opensslMissing();
if (missing) console.warn(`\n*** test/e2e/sidecar-tls.test.ts SKIPPED: ${missing} ***\n`);

/** A hang guard for one REGISTER transaction, not a speed assertion. */
const WAIT_MS = 5000;
const within = <T>(promise: Promise<T>, what: string): Promise<T> => waitFor(promise, what, WAIT_MS);

describe.skipIf(missing !== undefined)(`SIP over TLS and WSS through the sidecar to Kamailio over TLS${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let ca: TestCa | undefined;
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    ca = makeTestCa();
    const kamailioCert = ca.issue('kamailio.test', ['kamailio.test', '127.0.0.1']);
    const sidecarCert = ca.issue('sidecar.test', ['sidecar.test', '127.0.0.1']);
    registrar = await startKamailio({ config: 'registrar', tls: kamailioCert });
    sw = await startTestSidecar({
      upstream: { port: registrar.tlsPort ?? 0, transport: 'tls', tls: { caList: ca.caCertificate, serverName: 'kamailio.test' } },
      listen: ['tls', 'wss'],
      sip: { tls: { certificate: sidecarCert.certificate, privateKey: sidecarCert.privateKey } },
      projects: [
        SUNRISE,
        LAPSED,
        { group: 'Mobile', mobileApps: 1, virtualNumbers: 1, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['7001'] },
      ],
    });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  async function tlsClient(): Promise<RawSipClient> {
    const client = await RawSipClient.open('tls', started(sw).tls, { ca: started(ca).caPem, servername: 'sidecar.test' });
    stops.push(() => client.close());
    return client;
  }

  it('a door panel over SIP/TLS registers: Kamailio answers 200 and saw the REGISTER arrive over TLS', async () => {
    const client = await tlsClient();
    const { text, callId } = registerFrom(client, '1001');
    const answer = await client.request(text, callId, WAIT_MS);
    expect(answer?.status).toBe(200);
    expect(answer?.header('server')).toMatch(/^kamailio/);
    expect(answer?.header('x-kam-proto')).toBe('tls');
    // Kamailio stored the binding: its 200 lists the contact the panel registered.
    expect(answer?.text).toMatch(new RegExp(`Contact: <sip:1001@${client.sentBy.replace(/\./g, '\\.')};transport=tls>`));
  });

  it('a door panel over SIP/TLS of a lapsed project is refused 403 by the sidecar, with the reason', async () => {
    const client = await tlsClient();
    const { text, callId } = registerFrom(client, '5001');
    const answer = await client.request(text, callId, WAIT_MS);
    expect(answer?.status).toBe(403);
    expect(answer?.header('x-sipwarden-reason')).toBe('license-expired');
    expect(answer?.header('server')).toBeUndefined();
    const line = started(sw).decisions().find((l) => l.callId === callId);
    expect(line).toMatchObject({ decision: 'deny', reason: 'license-expired', transport: 'tls', method: 'REGISTER' });
  });

  it('a TLS client that does not trust the sidecar\'s CA gets no connection', async () => {
    const other = makeTestCa('untrusted CA');
    await expect(RawSipClient.open('tls', started(sw).tls, { ca: other.caPem, servername: 'sidecar.test' })).rejects.toThrow(/certificate/i);
  });

  it('sip.js over wss:// registers through the sidecar (Registered, Kamailio\'s 200 received over TLS)', async () => {
    const caPem = started(ca).caPem;
    // sip.js opens `new WebSocket(url, 'sip')`; the test's client trusts the test CA, as a phone
    // trusts the public CAs.
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
        super(url, protocols, { ...options, ca: caPem });
      }
    }
    const previous = (globalThis as { WebSocket?: unknown }).WebSocket;
    (globalThis as { WebSocket?: unknown }).WebSocket = TrustingWebSocket;
    stops.push(async () => {
      (globalThis as { WebSocket?: unknown }).WebSocket = previous;
    });

    const uri = UserAgent.makeURI('sip:7001@127.0.0.1');
    if (!uri) throw new Error('bad URI');
    const instanceId = randomUUID();
    const ua = new UserAgent({
      uri,
      transportOptions: { server: started(sw).wssUrl },
      contactParams: { transport: 'ws', 'pn-provider': 'fcm', 'pn-prid': 'wss-token-1', 'pn-param': 'intercom-project' },
      instanceId,
      userAgentString: 'IntercomApp-sipjs/0.21',
      logBuiltinEnabled: false,
    });
    const registerer = new Registerer(ua, { regId: 1, expires: 300 });
    stops.push(async () => {
      await registerer.dispose().catch(() => undefined);
      await ua.stop();
    });
    await within(ua.start(), 'WSS connect');
    const registered = new Promise<void>((resolve) => {
      registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) resolve();
      });
    });
    let accepted: IncomingResponse | undefined;
    await registerer.register({ requestDelegate: { onAccept: (r) => (accepted = r) } });
    await within(registered, 'Registered state');
    expect(accepted?.message.statusCode).toBe(200);
    expect(accepted?.message.getHeader('Server')).toMatch(/^kamailio/);
    expect(accepted?.message.getHeader('X-Kam-Proto')).toBe('tls');
  });
});
