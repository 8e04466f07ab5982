import { randomUUID } from 'node:crypto';
import { Registerer, RegistererState, UserAgent, type Core } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { findInstalls } from '../../src/store/app-installs.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { LAPSED, OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { within as waitFor } from './within.js';
import { started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';

/*
 * The mobile application as a real SIP-over-WebSocket client (RFC 7118): onsip sip.js registers
 * through the sidecar's WS listener with RFC 8599 push parameters in its Contact URI and
 * +sip.instance (RFC 5626); the sidecar forwards to Kamailio over UDP.
 */

type IncomingResponse = Core.IncomingResponse;

// sip.js uses the browser WebSocket global; Node 20 has none (DESIGN.md §5).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-ws.test.ts SKIPPED: ${missing} ***\n`);

/** A hang guard for one REGISTER transaction, not a speed assertion. */
const WAIT_MS = 5000;

interface AppClient {
  readonly ua: UserAgent;
  readonly registerer: Registerer;
  readonly instanceId: string;
}

const within = <T>(promise: Promise<T>, what: string): Promise<T> => waitFor(promise, what, WAIT_MS);

describe.skipIf(missing !== undefined)(`sip.js over WebSocket through the sidecar${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  const clients: AppClient[] = [];

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port, transport: 'udp' },
      listen: ['udp', 'ws'],
      projects: [
        { group: 'Mobile', mobileApps: 2, virtualNumbers: 2, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['7001', '7002'] },
        LAPSED,
      ],
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) {
      await c.registerer.dispose().catch(() => undefined);
      await c.ua.stop().catch(() => undefined);
    }
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  async function appClient(number: string, prid: string): Promise<AppClient> {
    const instanceId = randomUUID();
    const uri = UserAgent.makeURI(`sip:${number}@127.0.0.1`);
    if (!uri) throw new Error('bad URI');
    const ua = new UserAgent({
      uri,
      transportOptions: { server: sw?.wsUrl ?? '' },
      // RFC 8599 §4: the push parameters are Contact URI parameters.
      contactParams: { transport: 'ws', 'pn-provider': 'fcm', 'pn-prid': prid, 'pn-param': 'intercom-project' },
      instanceId,
      userAgentString: 'IntercomApp-sipjs/0.21',
      logBuiltinEnabled: false,
    });
    // regId makes the Registerer add reg-id and +sip.instance (RFC 5626 §4.2) to the Contact.
    const registerer = new Registerer(ua, { regId: 1, expires: 300 });
    const client = { ua, registerer, instanceId };
    clients.push(client);
    await within(ua.start(), 'WebSocket connect');
    return client;
  }

  it('registers a number with push parameters (Registered), counted as a licensed install', async () => {
    const app = await appClient('7001', 'ws-device-token-1');
    const registered = new Promise<void>((resolve) => {
      app.registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) resolve();
      });
    });
    let accepted: IncomingResponse | undefined;
    await app.registerer.register({ requestDelegate: { onAccept: (r) => (accepted = r) } });
    await within(registered, 'Registered state');
    expect(app.registerer.state).toBe(RegistererState.Registered);
    // Kamailio's 200, relayed from UDP back onto the WebSocket.
    expect(accepted?.message.statusCode).toBe(200);
    expect(accepted?.message.getHeader('Server')).toMatch(/^kamailio/);

    const rows = findInstalls(started(sw?.db), `urn:uuid:${app.instanceId}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      number: '7001',
      licensed: true,
      pnProvider: 'fcm',
      pnPrid: 'ws-device-token-1',
      pnParam: 'intercom-project',
      userAgent: 'IntercomApp-sipjs/0.21',
    });
    expect(rows[0]?.contact).toMatch(/;transport=ws/);
    const line = sw?.decisions().find((l) => l.number === '7001');
    // Allowed requests are logged at debug only; info level must not have logged it.
    expect(line).toBeUndefined();
  });

  it('a registration of an expired project is refused: 403 with the reason, push parameters kept', async () => {
    const app = await appClient('5001', 'ws-device-token-expired');
    const rejected = new Promise<IncomingResponse>((resolve) => {
      void app.registerer.register({ requestDelegate: { onReject: resolve } });
    });
    const response = await within(rejected, '403 to the WebSocket REGISTER');
    expect(response.message.statusCode).toBe(403);
    expect(response.message.getHeader('X-Sipwarden-Reason')).toBe('license-expired');
    expect(response.message.getHeader('Warning')).toMatch(/^399 \S+ ".+"$/);
    expect(app.registerer.state).not.toBe(RegistererState.Registered);

    // Refused installs are written in batches, just after their 403.
    await started(sw).sidecar.flushRecords();
    const rows = findInstalls(started(sw?.db), `urn:uuid:${app.instanceId}`);
    expect(rows[0]).toMatchObject({ number: '5001', licensed: false, pnProvider: 'fcm', pnPrid: 'ws-device-token-expired' });
    const line = sw?.decisions().find((l) => l.number === '5001' && l.transport === 'ws');
    expect(line).toMatchObject({ decision: 'deny', reason: 'license-expired', group: 'Lapsed', method: 'REGISTER' });
  });
});
