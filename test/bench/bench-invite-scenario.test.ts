import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingPeers } from '../support/peer-tools.js';
import { FIXTURES_DIR } from '../support/repo-root.js';
import { describeSippRun, runSipp, startSippServer } from '../support/sipp.js';

/*
 * bench:sip's INVITE scenario against a called party that sheds every call with 503, on real
 * SIPp: a shed call is counted as a 503 and ACKed (RFC 3261 §17.1.1.3), not failed by SIPp as an
 * "unexpected message" (which hid the sidecar's load shedding in the INVITE ladder).
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/bench/bench-invite-scenario.test.ts SKIPPED: ${missing} ***\n`);

const SCENARIOS = join(FIXTURES_DIR, 'sipp');
const CALLS = 20;

describe.skipIf(missing !== undefined)(`bench:sip INVITE scenario on real SIPp${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  it('counts a 503 to the INVITE as shed and ACKs it, instead of failing the call', async () => {
    const uas = await startSippServer({ scenario: join(SCENARIOS, 'uas-503.xml') as `${string}.xml`, calls: CALLS, timeoutSec: 30 });
    try {
      const rows = Array.from({ length: CALLS }, (_, i) => [String(3100 + i), String(3900 + i)]);
      const uac = await runSipp({
        scenario: join(SCENARIOS, 'bench-uac-invite.xml') as `${string}.xml`,
        target: `${uas.host}:${uas.port}`,
        calls: CALLS,
        rate: 20,
        timeoutSec: 20,
        injection: { rows },
      });
      const summary = describeSippRun(uac);
      expect(uac.exitCode, summary).toBe(0);
      expect(uac.stats?.failed, summary).toBe(0);
      expect(uac.stats?.successful, summary).toBe(CALLS);
      const shed = Object.entries(uac.counts).filter(([k]) => k.endsWith('_503_Recv')).reduce((n, [, v]) => n + v, 0);
      expect(shed, summary).toBe(CALLS);
      // The called party got every ACK (its scenario waits for one per call).
      const served = await uas.done;
      expect(served.stats?.successful, describeSippRun(served)).toBe(CALLS);
    } finally {
      await uas.stop();
    }
  }, 60_000);
});
