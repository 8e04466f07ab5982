import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstalls, listInstalls } from '../../src/store/app-installs.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp, type SippResult } from '../support/sipp.js';
import { appRegistrationRows, type AppRegistrationRow } from '../support/sipp-injection.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { must, started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';

/*
 * Mobile-app installs through the sidecar to Kamailio: each distinct +sip.instance takes one of the
 * project's app licenses on its first successful REGISTER; once they are used up a new install is
 * refused (no-mobile-app-license) while a licensed one keeps refreshing; every install's RFC 8599
 * push parameters are stored, the refused one's too.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-apps.test.ts SKIPPED: ${missing} ***\n`);

const TIMEOUT_SEC = 10;
const CONTACT = '127.0.0.1:5999';

function expectAllSucceeded(result: SippResult, calls: number): void {
  expect(result.exitCode, describeSippRun(result)).toBe(0);
  expect(result.stats?.successful, describeSippRun(result)).toBe(calls);
  expect(result.stats?.failed, describeSippRun(result)).toBe(0);
}

function install(n: number, number: string): AppRegistrationRow {
  return {
    number,
    contact: CONTACT,
    instance: `6f0a9a5e-3c1b-4d0e-9a57-0c2f6f1b7e1${n}`,
    pnProvider: n === 2 ? 'fcm' : 'apns',
    pnPrid: `device-token-${n}`,
    pnParam: `TEAM${n}.com.example.intercom.voip`,
  };
}

describe.skipIf(missing !== undefined)(`mobile-app installs through the sidecar${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      projects: [
        { group: 'Apps', mobileApps: 2, virtualNumbers: 3, validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['6001', '6002', '6003'] },
      ],
    });
  });
  afterAll(async () => {
    await sw?.close();
    await registrar?.stop();
  });

  it('the third install is refused no-mobile-app-license; the first still refreshes; push parameters are stored', async () => {
    const [first, second, third] = [install(1, '6001'), install(2, '6002'), install(3, '6003')];
    const claims = await runSipp({
      scenario: 'register-app.xml',
      target: sw?.udp ?? '',
      calls: 3,
      maxConcurrent: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: appRegistrationRows([first, second, { ...third, expect: 403, reason: 'no-mobile-app-license' }]),
    });
    expectAllSucceeded(claims, 3);
    expect(claims.counts['2_200_Recv']).toBe(2);
    expect(claims.counts['3_403_Recv']).toBe(1);

    const refresh = await runSipp({
      scenario: 'register-app.xml',
      target: sw?.udp ?? '',
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: appRegistrationRows([first]),
    });
    expectAllSucceeded(refresh, 1);

    // Refused installs are written in batches, just after their 403.
    await started(sw).sidecar.flushRecords();
    const db = started(sw).db;
    for (const row of [first, second, third]) {
      const rows = findInstalls(db, `urn:uuid:${row.instance}`);
      expect(rows, row.instance).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        number: row.number,
        root: 'Apps',
        licensed: row !== third,
        pnProvider: row.pnProvider,
        pnPrid: row.pnPrid,
        pnParam: row.pnParam,
        userAgent: 'IntercomApp/2.4 (sipp)',
      });
    }
    // Licensed first, in the order they took their license.
    const listed = must(listInstalls(db, { group: 'Apps' }), 'app list');
    expect(listed.map((i) => [i.number, i.licensed])).toEqual([
      ['6001', true],
      ['6002', true],
      ['6003', false],
    ]);
    const refusal = sw?.decisions().find((l) => l.decision === 'deny' && l.number === '6003');
    expect(refusal).toMatchObject({ reason: 'no-mobile-app-license', group: 'Apps', method: 'REGISTER', transport: 'udp' });
  });
});
