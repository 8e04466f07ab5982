import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startEmbeddedProxy, type EmbeddedProxy } from '../../src/sip/proxy/embedded-proxy.js';
import { FORWARD, type Verdict } from '../../src/sip/proxy/gate.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp } from '../support/sipp.js';

/*
 * Issue 8, item 7, with real peers and bounded for `npm test` (bench:sip runs the 1.25×/1.5×/2×
 * ladder beside Kamailio): SIPp offers REGISTERs at twice what the proxy can forward, Kamailio
 * registers what gets through. Before load shedding the proxy's receive queue grew, answers came
 * seconds late, SIPp retransmitted (RFC 3261 §17.1.2.2) and gave calls up. With shedding every
 * REGISTER is answered: registered (200) or refused with 503 + Retry-After (§21.5.4; the header
 * itself is checked by test/sip/overload.test.ts).
 *
 * The capacity is fixed by the test, not by the machine: the gate spends 10 ms of wall-clock time
 * per request (an expensive decision), so at most 100 REGISTER/s pass whatever else the box runs,
 * and the 200 offered per second stay far below what even a starved process can refuse.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/overload-sipp.test.ts SKIPPED: ${missing} ***\n`);

const GATE_MS = 10;
const CAPACITY = 1000 / GATE_MS;
const RATE = 2 * CAPACITY;
const SECONDS = 5;
const CALLS = RATE * SECONDS;

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the cost of an expensive decision, on the proxy's one thread
  }
}

const slowGate = (): Verdict => {
  spin(GATE_MS);
  return FORWARD;
};

describe.skipIf(missing !== undefined)(`overload: SIPp at 2× capacity through the proxy to Kamailio${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    proxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: registrar.port, transport: 'udp' },
      gate: slowGate,
      logger: pino({ level: 'silent' }),
      // The defaults an operator gets.
      overload: { enabled: true },
    });
  }, 30_000);

  afterAll(async () => {
    await proxy?.close();
    await registrar?.stop();
  });

  it('answers every REGISTER, 200 or 503, with no retransmission storm, and keeps registering', async () => {
    const rows = Array.from({ length: CALLS }, (_, i) => [String(40_000 + (i % 500))]);
    const result = await runSipp({
      scenario: 'bench-register.xml',
      target: `127.0.0.1:${proxy.addresses.udp?.port ?? 0}`,
      transport: 'u1',
      calls: CALLS,
      rate: RATE,
      timeoutSec: SECONDS + 40,
      injection: { rows },
      responseTimes: true,
    });
    const count = (suffix: string) => Object.entries(result.counts).filter(([k]) => k.endsWith(suffix)).reduce((s, [, v]) => s + v, 0);
    const registered = count('_200_Recv');
    const shed = count('_503_Recv');
    const times = result.responseTimes.filter((t) => t.rtd === '1').map((t) => t.ms).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? Number.POSITIVE_INFINITY;
    const summary = `${describeSippRun(result)}\nregistered ${registered}, shed ${shed}, median ${median} ms, p99 ${times[Math.floor(0.99 * times.length)]} ms, proxy stats ${JSON.stringify(proxy.stats)}`;

    // Every REGISTER got a final answer: none given up after SIPp's retransmissions.
    expect(result.stats?.failed, summary).toBe(0);
    expect(registered + shed, summary).toBe(CALLS);
    expect(shed, summary).toBeGreaterThan(0);
    expect(proxy.stats.shed, summary).toBeGreaterThanOrEqual(shed);
    expect(registered, summary).toBeGreaterThan(0);
    expect(times.length, summary).toBe(registered);
    // No retransmission storm (without shedding: seven to eight retransmissions per REGISTER). How
    // fast the accepted ones are answered (p99 < 500 ms, ≥ 0.9× the clean maximum) is measured by
    // bench:sip's overload ladder on the real sidecar: here the test machine's load decides it.
    expect(result.stats?.retransmissions, summary).toBeLessThan(4 * CALLS);
  }, 90_000);
});
