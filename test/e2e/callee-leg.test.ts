import { randomUUID } from 'node:crypto';
import { Registerer, RegistererState, UserAgent, type Invitation } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { setLicenses } from '../../src/store/license-settings.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { ackFor, RawSipClient, sipRequest, token, type RawAnswer } from './raw-sip.js';
import { ADMIN, must, started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { within } from './within.js';

const WAIT_MS = 5000;

/*
 * Each leg checks its own side (issue 9, item 2). The mobile app (sip.js over WebSocket, a random
 * Contact user as sip.js makes it) registers 7001 through the sidecar; Kamailio stores the
 * sidecar's Path. A door panel registered on Kamailio itself — unknown to sipwarden — calls 7001:
 * Kamailio relays the call back through the sidecar by that Path, and on this leg from the
 * upstream only the callee is checked, taken from the To AoR and the flow the call goes to. While
 * the licence is valid the app rings (also in strict mode, where the door panel is unknown);
 * once it has expired the call is refused 403 callee-license-expired, and the app never sees it.
 */

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/callee-leg.test.ts SKIPPED: ${missing} ***\n`);


describe.skipIf(missing !== undefined).each([
  { strict: false, mode: 'default policy' },
  { strict: true, mode: 'strict mode (the door panel is unknown to sipwarden)' },
])(`a call from the SIP server to an app through the sidecar, $mode${missing ? ` (SKIPPED: ${missing})` : ''}`, ({ strict }) => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  let ua: UserAgent | undefined;
  let registerer: Registerer | undefined;
  let door: RawSipClient | undefined;
  const invites: Invitation[] = [];

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      listen: ['udp', 'ws'],
      sip: { path: 'always' },
      policy: { unknownNumbers: strict ? 'reject' : 'allow' },
      projects: [{ group: 'Mobile', virtualNumbers: 1, mobileApps: 1, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['7001'] }],
    });
    const uri = UserAgent.makeURI('sip:7001@127.0.0.1');
    if (!uri) throw new Error('bad URI');
    ua = new UserAgent({
      uri,
      transportOptions: { server: sw.wsUrl },
      contactParams: { transport: 'ws', 'pn-provider': 'fcm', 'pn-prid': `callee-leg-${strict}`, 'pn-param': 'intercom-project' },
      instanceId: randomUUID(),
      userAgentString: 'IntercomApp-sipjs/0.21',
      logBuiltinEnabled: false,
      delegate: {
        onInvite(invitation) {
          invites.push(invitation);
          // It rings, then the resident declines: the call ends without media.
          void invitation.progress().then(() => invitation.reject({ statusCode: 486 }));
        },
      },
    });
    await within(ua.start(), 'WebSocket connect', WAIT_MS);
    registerer = new Registerer(ua, { regId: 1, expires: 300 });
    const registered = new Promise<void>((resolve) => {
      registerer?.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) resolve();
      });
    });
    await registerer.register();
    await within(registered, 'the app registered through the sidecar', WAIT_MS);
    door = await RawSipClient.open('udp', `${registrar.host}:${registrar.port}`);
  }, 30_000);

  afterAll(async () => {
    await door?.close();
    await registerer?.dispose().catch(() => undefined);
    await ua?.stop().catch(() => undefined);
    await sw?.close();
    await registrar?.stop();
  });

  /** The door panel calls 7001 on Kamailio directly, as a device registered there would; `to` is its To user. */
  async function doorCalls(to = '7001'): Promise<{ answer: RawAnswer | null; callId: string }> {
    const client = started(door);
    const callId = `${token()}@door`;
    const text = sipRequest('INVITE sip:7001@127.0.0.1 SIP/2.0', [
      `Via: SIP/2.0/UDP ${client.sentBy};rport;branch=z9hG4bK${token()}`,
      'Max-Forwards: 70',
      `From: "Door 1" <sip:door-1@127.0.0.1>;tag=${token()}`,
      `To: <sip:${to}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:door-1@${client.sentBy}>`,
    ]);
    const answer = await client.request(text, callId, WAIT_MS);
    if (answer !== null) client.send(ackFor(text, answer));
    return { answer, callId };
  }

  it('rings while the licence is valid: nothing refused on either leg', async () => {
    const { answer, callId } = await doorCalls();
    expect(answer?.status).toBe(486);
    expect(started(door).provisional(callId)).toContain(180);
    expect(invites).toHaveLength(1);
    // Checked on the leg from the upstream only for its callee: no refusal of the door panel.
    expect(started(sw).decisions().filter((l) => l.callId === callId)).toEqual([]);
  });

  it('is refused 403 callee-license-expired once the licence has expired, and never reaches the app', async () => {
    const s = started(sw);
    must(setLicenses(s.db, 'Mobile', { validUntil: Date.now() - 60_000 }, ADMIN), 'expire Mobile');
    s.sidecar.live.refresh();
    const { answer, callId } = await doorCalls();
    expect(answer?.status).toBe(403);
    expect(answer?.header('x-sipwarden-reason')).toBe('callee-license-expired');
    expect(invites).toHaveLength(1);
    const lines = s.decisions().filter((l) => l.callId === callId);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'refused', leg: 'from-upstream', method: 'INVITE', callee: '7001', calleeGroup: 'Mobile', reason: 'callee-license-expired' }),
    ]);
  });

  it('is refused too when the caller writes another number into To: the flow the call goes to registered 7001', async () => {
    // Kamailio routes by the Request-URI (7001); To is the caller's to write.
    const { answer, callId } = await doorCalls('9999');
    expect(answer?.status).toBe(403);
    expect(answer?.header('x-sipwarden-reason')).toBe('callee-license-expired');
    expect(invites).toHaveLength(1);
    expect(started(sw).decisions().filter((l) => l.callId === callId)).toEqual([
      expect.objectContaining({ msg: 'refused', leg: 'from-upstream', callee: '7001', calleeGroup: 'Mobile', reason: 'callee-license-expired' }),
    ]);
  });
});
