import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkKamailioConfig, startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePort } from '../support/ports.js';
import { liveGroupMembers } from '../support/process-group.js';
import { describeSippRun, runSipp, startSippServer, type SippResult, type SippServer, type SippTransport } from '../support/sipp.js';
import { appRegistrationRows, callRows, registrationRows } from '../support/sipp-injection.js';

/*
 * Proves the end-to-end harness on real peers with nothing in between:
 * SIPp <-> Kamailio registrar, and SIPp -> Kamailio stateless -> Kamailio registrar.
 * If these fail, an end-to-end failure through sipwarden says nothing about sipwarden.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/harness.test.ts SKIPPED: ${missing} ***\n`);

const TIMEOUT_SEC = 10;
/** The test registrar refuses numbers with this prefix the way sipwarden does (Warning 399 + X-Sipwarden-Reason). */
const REFUSALS = { prefix: '9', reason: 'license-expired' } as const;

function target(k: KamailioHandle): string {
  return `${k.host}:${k.port}`;
}

function expectAllSucceeded(result: SippResult, calls: number): void {
  expect(result.exitCode, describeSippRun(result)).toBe(0);
  expect(result.stats?.successful, describeSippRun(result)).toBe(calls);
  expect(result.stats?.failed, describeSippRun(result)).toBe(0);
}

describe.skipIf(missing !== undefined)(`e2e harness on real Kamailio and SIPp${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  const servers: SippServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('both Kamailio configs pass `kamailio -c`', async () => {
    const port = await freePort();
    expect(await checkKamailioConfig({ config: 'registrar', port })).toBeUndefined();
    expect(
      await checkKamailioConfig({ config: 'registrar', port, fallbackTo: '127.0.0.1:5999', fallbackTransport: 'tcp', refusals: REFUSALS }),
    ).toBeUndefined();
    expect(await checkKamailioConfig({ config: 'stateless-proxy', port, forwardTo: '127.0.0.1:5999', maxBuffer: 4 * 1024 * 1024 })).toBeUndefined();
  });

  describe('Kamailio registrar', () => {
    let registrar: KamailioHandle;
    beforeAll(async () => {
      registrar = await startKamailio({ config: 'registrar', refusals: REFUSALS });
    });
    afterAll(async () => {
      await registrar?.stop();
    });

    it.each<SippTransport>(['u1', 't1'])('answers REGISTER with 200 over %s', async (transport) => {
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(registrar),
        transport,
        calls: 3,
        timeoutSec: TIMEOUT_SEC,
        injection: registrationRows(['1001', '1002', '1003'].map((number) => ({ number, contact: '127.0.0.1:5999' }))),
      });
      expectAllSucceeded(result, 3);
      expect(result.counts['2_200_Recv']).toBe(3);
    });

    it('register.xml fails a call whose expected status is not what came back', async () => {
      // The registrar answers 200; expecting a policy 403 must fail the call, or the
      // scenario could never catch sipwarden letting a REGISTER through.
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(registrar),
        calls: 2,
        timeoutSec: TIMEOUT_SEC,
        injection: registrationRows([
          { number: '1101', contact: '127.0.0.1:5999' },
          { number: '1102', contact: '127.0.0.1:5999', expect: 403, reason: 'license-expired' },
        ]),
      });
      expect(result.exitCode, describeSippRun(result)).toBe(1);
      expect(result.stats?.successful).toBe(1);
      expect(result.stats?.failedStrcmp).toBe(1);
    });

    it('register.xml accepts a 403 carrying the expected Warning and X-Sipwarden-Reason, and fails on another reason', async () => {
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(registrar),
        calls: 2,
        timeoutSec: TIMEOUT_SEC,
        injection: registrationRows([
          { number: '9001', contact: '127.0.0.1:5999', expect: 403, reason: 'license-expired' },
          { number: '9002', contact: '127.0.0.1:5999', expect: 403, reason: 'unknown-number' },
        ]),
      });
      expect(result.exitCode, describeSippRun(result)).toBe(1);
      expect(result.stats?.successful, describeSippRun(result)).toBe(1);
      expect(result.stats?.failedStrcmp, describeSippRun(result)).toBe(1);
      expect(result.counts['3_403_Recv']).toBe(2);
      expect(readFileSync(result.files.actions, 'utf8')).toMatch(/403 reason=license-expired warning= *399 127\.0\.0\.1 "Refused by the test registrar"/);
    });

    it('register-app.xml sends +sip.instance and RFC 8599 push parameters; deregister.xml removes the binding', async () => {
      const app = {
        number: '1201',
        contact: '127.0.0.1:5999',
        instance: '6f0a9a5e-3c1b-4d0e-9a57-0c2f6f1b7e11',
        pnPrid: '00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0',
        pnParam: 'ABCD1234.com.example.intercom.voip',
      };
      const registered = await runSipp({
        scenario: 'register-app.xml',
        target: target(registrar),
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        traceMessages: true,
        injection: appRegistrationRows([app]),
      });
      expectAllSucceeded(registered, 1);
      const sent = readFileSync(registered.files.messages, 'utf8');
      expect(sent).toContain(
        `Contact: <sip:1201@127.0.0.1:5999;transport=UDP;pn-provider=apns;pn-prid=${app.pnPrid};pn-param=${app.pnParam}>;+sip.instance="<urn:uuid:${app.instance}>"`,
      );
      expect(sent).toMatch(/^User-Agent: IntercomApp\//m);

      const removed = await runSipp({
        scenario: 'deregister.xml',
        target: target(registrar),
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        traceMessages: true,
        injection: registrationRows([app]),
      });
      expectAllSucceeded(removed, 1);
      // Kamailio's 200 to a de-REGISTER lists no remaining binding (RFC 3261 section 10.3 step 8).
      const answer = readFileSync(removed.files.messages, 'utf8');
      expect(answer).toMatch(/^Expires: 0$/m);
      expect(answer.slice(answer.indexOf('SIP/2.0 200'))).not.toMatch(/^Contact:/m);
    });

    it('invite-expect-403.xml accepts a refused INVITE with the expected reason and ACKs it', async () => {
      const result = await runSipp({
        scenario: 'invite-expect-403.xml',
        target: target(registrar),
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        injection: callRows([{ caller: '2001', callee: '9100', reason: 'license-expired' }]),
      });
      expectAllSucceeded(result, 1);
      expect(result.counts['3_ACK_Sent']).toBe(1);
    });

    it.each<SippTransport>(['u1', 't1'])('relays INVITE/ACK/BYE to a registered UAS along the Record-Route over %s', async (transport) => {
      const uas = await startSippServer({ scenario: 'uas.xml', transport, calls: 1, timeoutSec: TIMEOUT_SEC, traceMessages: true });
      servers.push(uas);
      const callee = transport === 'u1' ? '3001' : '3002';
      const registration = await runSipp({
        scenario: 'register.xml',
        target: target(registrar),
        transport,
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        injection: registrationRows([{ number: callee, contact: `${uas.host}:${uas.port}` }]),
      });
      expectAllSucceeded(registration, 1);

      const call = await runSipp({
        scenario: 'uac-invite.xml',
        target: target(registrar),
        transport,
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        injection: callRows([{ caller: '2001', callee }]),
      });
      expectAllSucceeded(call, 1);
      const answered = await uas.done;
      expectAllSucceeded(answered, 1);

      // The BYE reached the UAS through Kamailio (its Via on top), i.e. the UAC used the route set.
      const seen = readFileSync(answered.files.messages, 'utf8');
      const bye = seen.slice(seen.indexOf('BYE sip:'));
      expect(bye).toMatch(new RegExp(`^Via: SIP/2\\.0/(UDP|TCP) 127\\.0\\.0\\.1:${registrar.port};`, 'im'));
    });

    it('relays a CANCEL while the UAS rings (INVITE, 180, CANCEL, 200, 487, ACK)', async () => {
      const uas = await startSippServer({ scenario: 'uas-ringing.xml', calls: 1, timeoutSec: TIMEOUT_SEC });
      servers.push(uas);
      const registration = await runSipp({
        scenario: 'register.xml',
        target: target(registrar),
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        injection: registrationRows([{ number: '3101', contact: `${uas.host}:${uas.port}` }]),
      });
      expectAllSucceeded(registration, 1);

      const call = await runSipp({
        scenario: 'uac-cancel-any-order.xml',
        target: target(registrar),
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        injection: callRows([{ caller: '2001', callee: '3101' }]),
      });
      expectAllSucceeded(call, 1);
      // The UAS itself saw the CANCEL and sent the 487 (not Kamailio answering for it).
      expectAllSucceeded(await uas.done, 1);
    });
  });

  it('the registrar sends INVITEs for unregistered numbers to fallbackTo', async () => {
    const uasPort = await freePort();
    const registrar = await startKamailio({ config: 'registrar', fallbackTo: `127.0.0.1:${uasPort}` });
    try {
      const uas = await startSippServer({ scenario: 'uas.xml', localPort: uasPort, calls: 2, timeoutSec: TIMEOUT_SEC });
      servers.push(uas);
      const call = await runSipp({
        scenario: 'uac-invite.xml',
        target: target(registrar),
        calls: 2,
        timeoutSec: TIMEOUT_SEC,
        injection: callRows([
          { caller: '2001', callee: '4001' },
          { caller: '2002', callee: '4002' },
        ]),
      });
      expectAllSucceeded(call, 2);
      expectAllSucceeded(await uas.done, 2);
    } finally {
      await registrar.stop();
    }
  });

  describe('SIPp -> Kamailio stateless proxy -> Kamailio registrar', () => {
    let registrar: KamailioHandle;
    let proxy: KamailioHandle;
    beforeAll(async () => {
      registrar = await startKamailio({ config: 'registrar' });
      proxy = await startKamailio({ config: 'stateless-proxy', forwardTo: target(registrar), maxBuffer: 4 * 1024 * 1024 });
    });
    afterAll(async () => {
      await proxy?.stop();
      await registrar?.stop();
    });

    it('REGISTER through the stateless proxy gets the registrar\'s 200', async () => {
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(proxy),
        calls: 20,
        rate: 200,
        timeoutSec: TIMEOUT_SEC,
        responseTimes: true,
        injection: registrationRows(Array.from({ length: 20 }, (_, i) => ({ number: String(5000 + i), contact: '127.0.0.1:5999' }))),
      });
      expectAllSucceeded(result, 20);
      // Parsed from -trace_rtt and -trace_stat: one measurement per REGISTER, all for rtd "1".
      expect(result.responseTimes).toHaveLength(20);
      expect(result.responseTimes.every((rt) => rt.rtd === '1' && Number.isFinite(rt.ms))).toBe(true);
      expect(result.stats?.meanResponseMs['ResponseTime1']).toBeGreaterThanOrEqual(0);
      expect(result.stats?.elapsedMs).toBeGreaterThanOrEqual(0);
      // The proxy probed its UDP receive buffer up to the configured maximum.
      expect(readFileSync(proxy.configPath, 'utf8')).toContain('maxbuffer=4194304');
      expect(proxy.logs()).toMatch(/SO_RCVBUF is finally \d+/);
    });
  });

  it('stop() ends Kamailio and all its workers', async () => {
    const k = await startKamailio({ config: 'registrar' });
    // Main process plus its UDP, TCP and timer workers.
    expect(liveGroupMembers(k.pid)?.length).toBeGreaterThan(1);
    const exit = await k.stop();
    expect(exit.code ?? exit.signal).not.toBeNull();
    expect(liveGroupMembers(k.pid)).toEqual([]);
    expect(existsSync(`/proc/${k.pid}`)).toBe(false);
  });
});
