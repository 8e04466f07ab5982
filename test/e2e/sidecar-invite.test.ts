import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp, startSippServer, type SippResult, type SippServer, type SippTransport } from '../support/sipp.js';
import { callRows, registrationRows } from '../support/sipp-injection.js';
import { LAPSED, SUNRISE } from './projects.js';
import { startTestSidecar, type TestSidecar } from './sidecar-fixture.js';

/*
 * Calls through the sidecar: SIPp UAC -> sidecar -> Kamailio registrar -> sidecar (the stored
 * Path) -> SIPp UAS registered through the sidecar. The sidecar Record-Routes the INVITE, so the
 * ACK and BYE come back through it; INVITEs from or to a number of an expired project are refused; a CANCEL reaches the UAS.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-invite.test.ts SKIPPED: ${missing} ***\n`);

const TIMEOUT_SEC = 10;

function expectAllSucceeded(result: SippResult, calls: number): void {
  expect(result.exitCode, describeSippRun(result)).toBe(0);
  expect(result.stats?.successful, describeSippRun(result)).toBe(calls);
  expect(result.stats?.failed, describeSippRun(result)).toBe(0);
}

/** The Via values of the first `method` request in a SIPp message trace, top first. */
function viasOf(trace: string, method: string): string[] {
  const start = trace.indexOf(`\n${method} sip:`);
  expect(start, `${method} in the trace`).toBeGreaterThanOrEqual(0);
  const head = trace.slice(start + 1).split(/\r?\n\r?\n/, 1)[0] ?? '';
  return head.split(/\r?\n/).filter((l) => /^Via:/i.test(l));
}

describe.skipIf(missing !== undefined)(`INVITE through the sidecar${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  const servers: SippServer[] = [];

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({ upstream: { port: registrar.port }, projects: [SUNRISE, LAPSED] });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  const udp = (): string => sw?.udp ?? '';

  /** Starts a UAS and registers `number` for it through the sidecar. */
  async function registeredUas(scenario: 'uas.xml' | 'uas-ringing.xml', number: string): Promise<SippServer> {
    const uas = await startSippServer({ scenario, calls: 1, timeoutSec: TIMEOUT_SEC, traceMessages: true });
    servers.push(uas);
    const reg = await runSipp({
      scenario: 'register.xml',
      target: udp(),
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: registrationRows([{ number, contact: `${uas.host}:${uas.port}` }]),
    });
    expectAllSucceeded(reg, 1);
    return uas;
  }

  it.each<SippTransport>(['u1', 't1'])('a call from a client over %s completes; the ACK and BYE pass through the sidecar', async (transport) => {
    const uas = await registeredUas('uas.xml', '1002');
    const target = transport === 'u1' ? udp() : (sw?.tcp ?? '');
    const call = await runSipp({
      scenario: 'uac-invite.xml',
      target,
      transport,
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      traceMessages: true,
      injection: callRows([{ caller: '1001', callee: '1002' }]),
    });
    expectAllSucceeded(call, 1);
    const answered = await uas.done;
    expectAllSucceeded(answered, 1);

    // The UAC's route set starts at the sidecar (its Record-Route, with a flow token user part).
    const port = (transport === 'u1' ? udp() : (sw?.tcp ?? '')).split(':')[1] ?? '';
    const uacTrace = readFileSync(call.files.messages, 'utf8');
    expect(uacTrace).toMatch(new RegExp(`^Route: <sip:[^@>]+@127\\.0\\.0\\.1:${port}[;>]`, 'im'));

    // At the UAS, the BYE came through the sidecar again (the UAS registered through it, so
    // Kamailio routes by the stored Path and the Record-Route, RFC 3327), before it through
    // Kamailio, and before that through the sidecar on the caller's side.
    const sidecarVia = new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${udp().split(':')[1]};branch=`, 'i');
    const vias = viasOf(readFileSync(answered.files.messages, 'utf8'), 'BYE');
    expect(vias[0]).toMatch(sidecarVia);
    expect(vias[1]).toContain(`127.0.0.1:${registrar?.port}`);
    expect(vias[2]).toMatch(sidecarVia);
    expect(vias).toHaveLength(4);
  });

  it('refuses an INVITE from a number of an expired project (license-expired) and one to it (callee-license-expired)', async () => {
    const absorbedBefore = sw?.sidecar.proxy?.stats.acksAbsorbed ?? 0;
    const result = await runSipp({
      scenario: 'invite-expect-403.xml',
      target: udp(),
      calls: 2,
      timeoutSec: TIMEOUT_SEC,
      injection: callRows([
        { caller: '5001', callee: '1002', reason: 'license-expired' },
        { caller: '1001', callee: '5001', reason: 'callee-license-expired' },
      ]),
    });
    expectAllSucceeded(result, 2);
    expect(result.counts['2_403_Recv']).toBe(2);
    // The 403s were the sidecar's own: it absorbed their ACKs instead of relaying them.
    expect((sw?.sidecar.proxy?.stats.acksAbsorbed ?? 0) - absorbedBefore).toBe(2);
    const refused = sw?.decisions().filter((l) => l.method === 'INVITE' && l.decision === 'deny') ?? [];
    expect(refused.map((l) => l.reason)).toEqual(expect.arrayContaining(['license-expired', 'callee-license-expired']));
  });

  it('a CANCEL of a ringing call reaches the UAS through the sidecar (INVITE, 180, CANCEL, 200, 487, ACK)', async () => {
    const uas = await registeredUas('uas-ringing.xml', '1003');
    // Kamailio may relay the 487 before its own 200 for the CANCEL (two workers): accept both orders.
    const call = await runSipp({
      scenario: 'uac-cancel-any-order.xml',
      target: udp(),
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: callRows([{ caller: '1001', callee: '1003' }]),
    });
    expectAllSucceeded(call, 1);
    // The UAS itself saw the CANCEL and answered 487, so the CANCEL matched its INVITE upstream.
    const answered = await uas.done;
    expectAllSucceeded(answered, 1);
    const vias = viasOf(readFileSync(answered.files.messages, 'utf8'), 'CANCEL');
    expect(vias[0]).toMatch(new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${udp().split(':')[1]};branch=`, 'i'));
    expect(vias[1]).toContain(`127.0.0.1:${registrar?.port}`);
  });
});
