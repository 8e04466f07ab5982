import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp, type SippResult, type SippTransport } from '../support/sipp.js';
import { registrationRows } from '../support/sipp-injection.js';
import { CROWDED, FUTURE, LAPSED, SUNRISE, UNKNOWN_NUMBER } from './projects.js';
import { startTestSidecar, type TestSidecar } from './sidecar-fixture.js';

/*
 * REGISTER through the sidecar (in-process `startSidecar`) to a real Kamailio registrar: what the
 * licence allows reaches Kamailio and its 200 comes back; what it refuses is answered 403 by the
 * sidecar with Warning 399 and X-Sipwarden-Reason (checked by register.xml itself).
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-register.test.ts SKIPPED: ${missing} ***\n`);

const TIMEOUT_SEC = 10;
const CONTACT = '127.0.0.1:5999';

function expectAllSucceeded(result: SippResult, calls: number): void {
  expect(result.exitCode, describeSippRun(result)).toBe(0);
  expect(result.stats?.successful, describeSippRun(result)).toBe(calls);
  expect(result.stats?.failed, describeSippRun(result)).toBe(0);
}

const CASES: readonly { readonly client: SippTransport; readonly upstream: 'udp' | 'tcp' }[] = [
  { client: 'u1', upstream: 'udp' },
  { client: 't1', upstream: 'udp' },
  { client: 'u1', upstream: 'tcp' },
];

describe.skipIf(missing !== undefined)(`REGISTER through the sidecar to Kamailio${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  describe.each(CASES)('client over $client, upstream over $upstream', ({ client, upstream }) => {
    let registrar: KamailioHandle | undefined;
    let sw: TestSidecar | undefined;
    beforeAll(async () => {
      registrar = await startKamailio({ config: 'registrar' });
      sw = await startTestSidecar({
        upstream: { port: registrar.port, transport: upstream },
        policy: { unknownNumbers: 'reject' },
        projects: [SUNRISE, CROWDED, FUTURE, LAPSED],
      });
    });
    afterAll(async () => {
      await sw?.close();
      await registrar?.stop();
    });

    const target = (): string => (client === 'u1' ? (sw?.udp ?? '') : (sw?.tcp ?? ''));

    it('a licensed number gets Kamailio\'s 200', async () => {
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(),
        transport: client,
        calls: 2,
        timeoutSec: TIMEOUT_SEC,
        traceMessages: true,
        injection: registrationRows([
          { number: '1001', contact: CONTACT },
          { number: '3002', contact: CONTACT },
        ]),
      });
      expectAllSucceeded(result, 2);
      // The 200 is Kamailio's: it carries its Server header and the binding it saved.
      const seen = readFileSync(result.files.messages, 'utf8');
      expect(seen).toMatch(/^Server: kamailio/im);
      expect(seen).toMatch(new RegExp(`^Contact: <sip:1001@${CONTACT};transport=${client === 'u1' ? 'UDP' : 'TCP'}>;expires=`, 'im'));
    });

    it('refuses unknown, over-the-limit, not-yet-valid and expired numbers with 403 and the reason', async () => {
      const refused = [
        { number: UNKNOWN_NUMBER, reason: 'unknown-number' },
        { number: '3003', reason: 'virtual-numbers-exceeded' },
        { number: '4001', reason: 'license-not-yet-valid' },
        { number: '5001', reason: 'license-expired' },
      ] as const;
      const result = await runSipp({
        scenario: 'register.xml',
        target: target(),
        transport: client,
        calls: refused.length,
        timeoutSec: TIMEOUT_SEC,
        traceMessages: true,
        injection: registrationRows(refused.map((r) => ({ number: r.number, contact: CONTACT, expect: 403 as const, reason: r.reason }))),
      });
      expectAllSucceeded(result, refused.length);
      expect(result.counts['3_403_Recv']).toBe(refused.length);
      const actions = readFileSync(result.files.actions, 'utf8');
      for (const r of refused) expect(actions).toMatch(new RegExp(`403 reason=${r.reason} warning= *399 127\\.0\\.0\\.1 "`));
      // Sidecar answers: no Kamailio Server header on any 403.
      expect(readFileSync(result.files.messages, 'utf8')).not.toMatch(/^Server: kamailio/im);

      const lines = sw?.decisions().filter((l) => l.decision === 'deny' && refused.some((r) => r.number === l.number)) ?? [];
      expect(lines.map((l) => [l.number, l.reason, l.transport])).toEqual(
        expect.arrayContaining(refused.map((r) => [r.number, r.reason, client === 'u1' ? 'udp' : 'tcp'])),
      );
    });

    it('a de-REGISTER passes while the licence is expired (Kamailio answers 200)', async () => {
      const result = await runSipp({
        scenario: 'deregister.xml',
        target: target(),
        transport: client,
        calls: 1,
        timeoutSec: TIMEOUT_SEC,
        traceMessages: true,
        injection: registrationRows([{ number: '5002', contact: CONTACT }]),
      });
      expectAllSucceeded(result, 1);
      expect(readFileSync(result.files.messages, 'utf8')).toMatch(/^Server: kamailio/im);
    });
  });
});

/*
 * KNOWN BUG, kept as an expected failure so that the fix turns it red (then make it a plain `it`):
 * src/sip/proxy/stateless-proxy.ts `#isUpstream` takes every TCP connection from the upstream's IP
 * address for the upstream ("the upstream may open TCP connections to us from any port"). With
 * client and upstream on one host (here 127.0.0.1; in production a sidecar beside its SIP server
 * with any local TCP client) a client's REGISTER is routed as if it came from upstream, by its
 * Request-URI, which names the sidecar itself: dropped as 'next hop is this proxy (loop)', never
 * answered. UDP clients, and TCP clients with a UDP upstream, are not affected.
 */
describe.skipIf(missing !== undefined)(`TCP client and TCP upstream on one host${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({ upstream: { port: registrar.port, transport: 'tcp' }, projects: [SUNRISE] });
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  // A TCP client on the upstream's host was once taken for the upstream and its request dropped.
  it('a licensed REGISTER over TCP gets Kamailio\'s 200 over a TCP upstream on the same host', async () => {
    const result = await runSipp({
      scenario: 'register.xml',
      target: sw?.tcp ?? '',
      transport: 't1',
      calls: 1,
      timeoutSec: 10,
      injection: registrationRows([{ number: '1001', contact: CONTACT }]),
    });
    expect(sw?.sidecar.proxy?.stats.gateCalls).toBe(1);
    expectAllSucceeded(result, 1);
  });
});
