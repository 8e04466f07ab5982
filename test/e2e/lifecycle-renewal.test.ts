import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/notify/signer.js';
import { CliWorld, killRunning } from '../cli/cli-harness.js';
import { startReceiver, type AnsweredRequest, type WebhookReceiver } from '../notify/webhook-receiver.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { newToken, UdpSipClient, type SipAnswer } from './udp-sip-client.js';

/*
 * The product promise end to end, with the real daemon (`sipwarden serve`), a Kamailio registrar
 * upstream, the operator CLI and a real HTTP receiver as the push gateway: a mobile app refused
 * while the licence is expired has its push parameters stored; extending the window with the CLI
 * sends exactly one signed license.renewed listing that install within a second; the app's next
 * REGISTER is accepted.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/lifecycle-renewal.test.ts SKIPPED: ${missing} ***\n`);

const SECRET_ENV = 'LIFECYCLE_E2E_RENEWAL_SECRET';
const SECRET = randomBytes(24).toString('hex');
const INSTANCE = 'urn:uuid:2b6f0c1e-8d4a-4f5e-9c3b-7a1d2e3f4a5b';
const PUSH = { provider: 'apns', prid: 'a1b2c3d4e5f6-device-token', param: 'TEAM1.com.example.intercom.voip' };

interface Body {
  id: string;
  type: string;
  rootGroup: string;
  createdAt: string;
  window: { previousState: string; state: string };
  installs?: { instanceId: string; number: string; licensed: boolean; push: Record<string, string | null> }[];
}

const body = (r: AnsweredRequest): Body => JSON.parse(r.body) as Body;
const isType = (type: string) => (r: AnsweredRequest) => body(r).type === type;

/** A REGISTER as the mobile app sends it: RFC 8599 push parameters and +sip.instance (RFC 5626). */
function appRegister(client: UdpSipClient, target: string, number: string): { text: string; callId: string } {
  const callId = `${newToken()}@lifecycle-e2e`;
  const lines = [
    `REGISTER sip:${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${client.port};rport;branch=z9hG4bK${newToken()}`,
    `From: <sip:${number}@127.0.0.1>;tag=${newToken()}`,
    `To: <sip:${number}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${number}@127.0.0.1:${client.port};transport=udp;pn-provider=${PUSH.provider};pn-prid=${PUSH.prid};pn-param=${PUSH.param}>;+sip.instance="<${INSTANCE}>"`,
    'Expires: 3600',
    'Max-Forwards: 70',
    'User-Agent: IntercomApp/2.4 (e2e)',
    'Content-Length: 0',
  ];
  return { text: `${lines.join('\r\n')}\r\n\r\n`, callId };
}

describe.skipIf(missing !== undefined)(`licence renewal push through a running serve${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let w: CliWorld | undefined;
  let registrar: KamailioHandle | undefined;
  let receiver: WebhookReceiver | undefined;
  let serve: ServeProcess | undefined;
  let client: UdpSipClient | undefined;
  let sipTarget = '';

  beforeAll(async () => {
    w = await new CliWorld().init();
    await w.ok(['group', 'add', 'Sunrise']);
    await w.ok(['licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '2', '--apps', '2', '--valid-from', '2020-01-01', '--valid-until', '2021-01-01']);
    await w.ok(['user', 'add', 'alice', '--group', 'Sunrise']);
    await w.ok(['number', 'add', '7001', '--user', 'alice']);
    receiver = await startReceiver();
    registrar = await startKamailio({ config: 'registrar' });
    const config = writeConfig(w.dir, {
      database: w.db,
      sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: registrar.port } },
      notify: { webhooks: [{ url: receiver.url }], secretEnv: SECRET_ENV },
    });
    // serve-process passes this worker's environment on, without SIPWARDEN_* variables: hence secretEnv.
    process.env[SECRET_ENV] = SECRET;
    serve = spawnServe(w.dir, config);
    const listen = await waitUntilServing(serve);
    sipTarget = `${listen.udp?.host ?? '127.0.0.1'}:${listen.udp?.port ?? 0}`;
    client = await UdpSipClient.open();
  }, 60_000);

  afterAll(async () => {
    delete process.env[SECRET_ENV];
    await client?.close();
    await serve?.stop();
    await registrar?.stop();
    await receiver?.close();
    killRunning();
    w?.remove();
  });

  async function register(): Promise<SipAnswer | null> {
    if (!client) throw new Error('no client');
    const { text, callId } = appRegister(client, sipTarget, '7001');
    return client.request(sipTarget, text, callId, 3000);
  }

  it('refuses the app while expired, stores its push parameters; the CLI extension pushes one signed license.renewed; the app then registers', async () => {
    if (!w || !receiver || !serve) throw new Error('setup failed');
    // The expiry queued by the CLI before the daemon started is delivered when it starts.
    await receiver.waitFor(isType('license.expired'), 'license.expired');

    const refused = await register();
    expect(refused?.status).toBe(403);
    expect(refused?.header('x-sipwarden-reason')).toBe('license-expired');
    // Refused installs are written in batches just after their 403 (within 50 ms, plus the writer).
    const stored = [{ instance_id: INSTANCE, licensed: 0, pn_provider: PUSH.provider, pn_prid: PUSH.prid, pn_param: PUSH.param }];
    const query = () => w?.query('SELECT instance_id, licensed, pn_provider, pn_prid, pn_param FROM app_installs');
    for (let waited = 0; JSON.stringify(query()) !== JSON.stringify(stored) && waited < 3000; waited += 20) await sleep(20);
    expect(query()).toEqual(stored);

    const from = receiver.requests.length;
    await w.ok(['licenses', 'set', 'Sunrise', '--valid-until', '2100-01-01']);
    const cliExited = Date.now();
    const pushed = await receiver.waitFor(isType('license.renewed'), 'license.renewed', 10_000, from);
    const renewed = body(pushed);
    const fromCommitMs = pushed.receivedAt - Date.parse(renewed.createdAt);
    console.log(`license.renewed reached the receiver ${fromCommitMs} ms after the CLI's change (${pushed.receivedAt - cliExited} ms after the CLI process exited)`);
    expect(fromCommitMs).toBeLessThan(1000);

    expect(verifySignature(SECRET, pushed.body, pushed.headers['x-sipwarden-signature'] as string | undefined)).toBe(true);
    expect(pushed.headers['x-sipwarden-event-id']).toBe(renewed.id);
    expect(renewed).toMatchObject({ rootGroup: 'Sunrise', window: { previousState: 'expired', state: 'active' } });
    expect(renewed.installs).toEqual([
      {
        instanceId: INSTANCE,
        number: '7001',
        user: 'alice',
        licensed: false,
        push: { 'pn-provider': PUSH.provider, 'pn-prid': PUSH.prid, 'pn-param': PUSH.param },
      },
    ]);

    // The woken app registers at once, and is accepted (the daemon reloads before it pushes).
    const accepted = await register();
    expect(accepted?.status).toBe(200);

    // Exactly once: delivered, and not sent again over the next ticks.
    await serve.waitForLine((l) => l.msg === 'webhook delivery' && l.eventId === renewed.id, 'the delivery log line');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.requests.filter(isType('license.renewed'))).toHaveLength(1);
    const events = await w.json<{ type: string; status: string; eventId: string }[]>(['events', 'list']);
    expect(events.filter((e) => e.type === 'license.renewed').map((e) => [e.eventId, e.status])).toEqual([[renewed.id, 'delivered']]);

    const lines = serve.lines();
    expect(lines.filter((l) => l.msg === 'lifecycle event' && l.eventId === renewed.id)).toEqual([
      expect.objectContaining({ type: 'license.renewed', group: 'Sunrise', source: 'operator', operator: 'admin' }),
    ]);
    expect(lines.filter((l) => l.msg === 'webhook delivery' && l.eventId === renewed.id)).toEqual([
      expect.objectContaining({ attempt: 1, status: 204, outcome: 'delivered', target: receiver.url }),
    ]);
    const all = JSON.stringify(lines) + serve.stderr();
    expect(all).not.toContain(SECRET);
  });
});
