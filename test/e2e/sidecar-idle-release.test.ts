import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstalls } from '../../src/store/app-installs.js';
import { listAudit } from '../../src/store/audit-log.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp } from '../support/sipp.js';
import { appRegistrationRows, type AppRegistrationRow } from '../support/sipp-injection.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { started, startTestSidecar, type LogLine, type TestSidecar } from './sidecar-fixture.js';

/*
 * policy.releaseIdleInstallsAfter through the sidecar to Kamailio: an app install that has not
 * registered for that long gives its licence back (audited), the running sidecar picks the release
 * up, and another install of the project registers. The sidecar's clock is moved, not waited for.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-idle-release.test.ts SKIPPED: ${missing} ***\n`);

const DAY = 86_400_000;
/** A hang guard, not a speed assertion. */
const WAIT_MS = 15_000;

function install(n: number, number: string): AppRegistrationRow {
  return { number, contact: '127.0.0.1:5999', instance: `0d4b6f0e-5a1c-4c1e-8f3a-7d9e2b1c0a5${n}`, pnProvider: 'apns', pnPrid: `token-${n}`, pnParam: 'TEAM.com.example.intercom.voip' };
}

describe.skipIf(missing !== undefined)(`idle app installs are released${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  let now = Date.now();

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      policy: { releaseIdleInstallsAfter: '30d' },
      clock: () => now,
      projects: [
        { group: 'Apps', mobileApps: 1, virtualNumbers: 2, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['6101', '6102'] },
        { group: 'Pair', mobileApps: 2, virtualNumbers: 2, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['6201', '6202'] },
      ],
    });
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  /** One app REGISTER that must be answered `status` (403: no-mobile-app-license). */
  async function register(row: AppRegistrationRow, status: 200 | 403): Promise<void> {
    const result = await runSipp({
      scenario: 'register-app.xml',
      target: started(sw).udp,
      calls: 1,
      timeoutSec: 10,
      injection: appRegistrationRows([status === 200 ? row : { ...row, expect: 403, reason: 'no-mobile-app-license' }]),
    });
    expect(result.exitCode, describeSippRun(result)).toBe(0);
    expect(result.stats?.successful, describeSippRun(result)).toBe(1);
  }

  async function until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function waitForLog(match: (l: LogLine) => boolean, what: string): Promise<LogLine> {
    await until(() => started(sw).logs.some(match), what);
    return started(sw).logs.find(match) ?? {};
  }

  it('an install idle for 30 days gives its licence back; another install then registers', async () => {
    const [first, second] = [install(1, '6101'), install(2, '6102')];
    await register(first, 200);
    await register(second, 403);

    now += 29 * DAY;
    await register(first, 200); // a refresh: seen again, 29 days in
    const seen = now;
    // Last-seen times are written lazily (batched): wait for this one before moving on.
    await until(() => findInstalls(started(sw).db, `urn:uuid:${first.instance}`)[0]?.lastSeen === seen, 'the refresh written');
    now += 29 * DAY;
    // 58 days in, but seen 29 days ago: kept.
    expect(findInstalls(started(sw).db, `urn:uuid:${first.instance}`)[0]).toMatchObject({ licensed: true });

    now += 2 * DAY;
    const line = await waitForLog((l) => l.msg === 'idle app installs released', 'release log line');
    expect(line.released).toEqual([expect.objectContaining({ install: `urn:uuid:${first.instance}`, number: '6101', group: 'Apps' })]);
    const db = started(sw).db;
    expect(findInstalls(db, `urn:uuid:${first.instance}`)[0]).toMatchObject({ licensed: false, releasedBy: 'idle', pnPrid: 'token-1' });
    expect(listAudit(db).filter((e) => e.action === 'app.release-idle')).toMatchObject([
      { operator: null, outcome: 'ok', rootGroup: 'Apps', target: `urn:uuid:${first.instance}`, oldValue: { licensed: ['6101'] } },
    ]);

    // The running sidecar decides on the freed licence: the second install takes it.
    await register(second, 200);
    expect(findInstalls(db, `urn:uuid:${second.instance}`)[0]).toMatchObject({ licensed: true });
  });

  it("an app's de-REGISTER counts as seen: of two installs idle since the same day, only the silent one is released", async () => {
    const [quiet, leaving] = [install(3, '6201'), install(4, '6202')];
    await register(quiet, 200);
    await register(leaving, 200);
    now += 29 * DAY;
    const deregistered = await runSipp({ scenario: 'deregister-app.xml', target: started(sw).udp, calls: 1, timeoutSec: 10, injection: appRegistrationRows([leaving]) });
    expect(deregistered.exitCode, describeSippRun(deregistered)).toBe(0);
    const seen = now;
    await until(() => findInstalls(started(sw).db, `urn:uuid:${leaving.instance}`)[0]?.lastSeen === seen, 'the de-REGISTER written as seen');

    now += 2 * DAY;
    // One round releases everything due: had the de-REGISTER not counted, both would be in it.
    const line = await waitForLog((l) => l.msg === 'idle app installs released' && JSON.stringify(l.released).includes('6201'), 'the release of 6201');
    // (The first test's second install, of project Apps, falls due in the same round.)
    const pair = (line.released as { group: string }[]).filter((r) => r.group === 'Pair');
    expect(pair).toEqual([expect.objectContaining({ install: `urn:uuid:${quiet.instance}`, number: '6201' })]);
    expect(findInstalls(started(sw).db, `urn:uuid:${leaving.instance}`)[0]).toMatchObject({ licensed: true });
  });
});
