import { randomUUID } from 'node:crypto';
import {
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Core,
  type SessionDescriptionHandler,
  type UserAgentOptions,
} from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { findInstalls } from '../../src/store/app-installs.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp, startSippServer, type SippServer } from '../support/sipp.js';
import { registrationRows } from '../support/sipp-injection.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { within as waitFor } from './within.js';
import { started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';

/*
 * Issue 9, item 1: a licensed app's call is never refused for its own identity. A sip.js
 * UserAgent (over WebSocket through the sidecar, Kamailio upstream) registers with RFC 8599
 * push parameters and RFC 5626 +sip.instance, then calls (Inviter) a SIPp UAS: 200, whichever
 * Contact variant its INVITE carries. The sidecar knows the app by its User-Agent too
 * (`policy.mobileAppUserAgent`), so every INVITE below is checked as the app's.
 */

type IncomingResponse = Core.IncomingResponse;

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-app-calls.test.ts SKIPPED: ${missing} ***\n`);

const WAIT_MS = 8000;
const TIMEOUT_SEC = 15;

const within = <T>(promise: Promise<T>, what: string): Promise<T> => waitFor(promise, what, WAIT_MS);

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** No media in Node: an offer/answer handler that offers a fixed SDP and accepts any answer. */
function fixedSdp(): SessionDescriptionHandler {
  return {
    close: () => undefined,
    getDescription: () => Promise.resolve({ body: SDP, contentType: 'application/sdp' }),
    hasDescription: (contentType: string) => contentType === 'application/sdp',
    sendDtmf: () => false,
    setDescription: () => Promise.resolve(),
  };
}

interface Variant {
  readonly name: string;
  readonly caller: string;
  readonly callee: string;
  /** RFC 8599 push parameters in the Contact URI (REGISTER and INVITE). */
  readonly push: boolean;
  /** sip.js `instanceIdAlwaysAdded`: +sip.instance in the INVITE's Contact too. */
  readonly instanceAlways: boolean;
  /**
   * Keep the public GRUU Kamailio handed out at REGISTER (RFC 5627): sip.js then calls from
   * `sip:AOR;gr=urn:uuid:…`. Without it the INVITE's Contact is the registered Contact URI, as
   * from a client whose registrar offers no GRUU.
   */
  readonly gruu: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'pn-* without +sip.instance', caller: '8001', callee: '8101', push: true, instanceAlways: false, gruu: false },
  { name: 'pn-* and +sip.instance', caller: '8002', callee: '8102', push: true, instanceAlways: true, gruu: false },
  { name: 'the registered Contact URI alone', caller: '8003', callee: '8103', push: false, instanceAlways: false, gruu: false },
  { name: 'a public GRUU (sip.js with Kamailio)', caller: '8004', callee: '8104', push: true, instanceAlways: false, gruu: true },
];

describe.skipIf(missing !== undefined)(`a licensed app calls through the sidecar${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  const agents: UserAgent[] = [];
  const servers: SippServer[] = [];

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port, transport: 'udp' },
      listen: ['udp', 'ws'],
      policy: { mobileAppUserAgent: '^IntercomApp' },
      projects: [
        {
          group: 'Calls',
          mobileApps: VARIANTS.length,
          validFrom: OPEN_FROM,
          validUntil: OPEN_UNTIL,
          numbers: [...VARIANTS.map((v) => v.caller), ...VARIANTS.map((v) => v.callee)],
        },
      ],
    });
  });
  afterEach(async () => {
    for (const ua of agents.splice(0)) await ua.stop().catch(() => undefined);
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  async function callee(number: string): Promise<SippServer> {
    const uas = await startSippServer({ scenario: 'uas.xml', calls: 1, timeoutSec: TIMEOUT_SEC });
    servers.push(uas);
    const reg = await runSipp({
      scenario: 'register.xml',
      target: started(sw).udp,
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: registrationRows([{ number, contact: `${uas.host}:${uas.port}` }]),
    });
    expect(reg.exitCode, describeSippRun(reg)).toBe(0);
    return uas;
  }

  it.each(VARIANTS)('registers, then calls with $name → 200', async (v) => {
    const uas = await callee(v.callee);
    const instanceId = randomUUID();
    const uri = UserAgent.makeURI(`sip:${v.caller}@127.0.0.1`);
    if (!uri) throw new Error('bad URI');
    const options: UserAgentOptions = {
      uri,
      transportOptions: { server: started(sw).wsUrl },
      // RFC 8599 §4: the push parameters are Contact URI parameters.
      contactParams: v.push
        ? { transport: 'ws', 'pn-provider': 'fcm', 'pn-prid': `token-${v.caller}`, 'pn-param': 'intercom-project' }
        : { transport: 'ws' },
      instanceId,
      instanceIdAlwaysAdded: v.instanceAlways,
      userAgentString: 'IntercomApp-sipjs/0.21',
      sessionDescriptionHandlerFactory: fixedSdp,
      logBuiltinEnabled: false,
    };
    const ua = new UserAgent(options);
    agents.push(ua);
    await within(ua.start(), 'WebSocket connect');

    const registerer = new Registerer(ua, { regId: 1, expires: 300 });
    const registered = new Promise<void>((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) resolve();
      });
    });
    await registerer.register();
    await within(registered, 'Registered');
    expect(findInstalls(started(sw).db, `urn:uuid:${instanceId}`)[0]).toMatchObject({ number: v.caller, licensed: true });
    if (!v.gruu) ua.contact.pubGruu = undefined;

    const target = UserAgent.makeURI(`sip:${v.callee}@127.0.0.1`);
    if (!target) throw new Error('bad target');
    const inviter = new Inviter(ua, target);
    const established = new Promise<void>((resolve) => {
      inviter.stateChange.addListener((s) => {
        if (s === SessionState.Established) resolve();
      });
    });
    const answer = new Promise<IncomingResponse>((resolve) => {
      void inviter.invite({ requestDelegate: { onAccept: resolve, onReject: resolve } });
    });
    const final = await within(answer, 'final response to the INVITE');
    expect(final.message.statusCode, final.message.getHeader('X-Sipwarden-Reason') ?? '').toBe(200);
    await within(established, 'Established');
    await inviter.bye();
    expect((await uas.done).stats?.successful).toBe(1);

    // The call was decided for the install that registered, not as a new one.
    const allowed = started(sw).logs.filter((l) => l.method === 'INVITE' && l.number === v.caller);
    expect(allowed.filter((l) => l.decision === 'deny')).toEqual([]);
    await registerer.unregister().catch(() => undefined);
  });
});
