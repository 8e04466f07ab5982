import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLicenses } from '../../src/store/license-settings.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp } from '../support/sipp.js';
import { appRegistrationRows, type AppRegistrationRow } from '../support/sipp-injection.js';
import { registerUntil } from './reload-probe.js';
import { ADMIN, must, started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { UdpSipClient } from './udp-sip-client.js';

/*
 * Issue 8, item 6, bounded for `npm test` (bench:sip runs 10,000 installs in 10 s): a project's
 * licence expires while its apps keep registering (refused, their push parameters kept); the
 * operator renews it, the push wakes every app, and all re-register within seconds. Each is a new
 * licence claim through the writer thread, applied to the snapshot as it is granted: no failure,
 * every install licensed, and no tree reload per claim.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/renewal-burst.test.ts SKIPPED: ${missing} ***\n`);

// The product's invariant virtualNumbers >= mobileApps: one install per number.
const NUMBERS = 600;
const INSTALLS = NUMBERS;
const RATE = 300;
const TIMEOUT_SEC = 30;
const numbers = Array.from({ length: NUMBERS }, (_, i) => String(30_000 + i));

function installs(expect: 200 | 403): AppRegistrationRow[] {
  return Array.from({ length: INSTALLS }, (_, i) => ({
    number: numbers[i % NUMBERS] ?? '',
    contact: '127.0.0.1:5999',
    instance: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    pnProvider: 'fcm',
    pnPrid: `renewal-token-${i}`,
    pnParam: 'estate.voip',
    ...(expect === 403 ? { expect, reason: 'license-expired' } : {}),
  }));
}

describe.skipIf(missing !== undefined)(`a renewal wakes every app of a project at once${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  let client: UdpSipClient | undefined;

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar', sharedMemMb: 512 });
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      projects: [
        {
          group: 'Estate',
          mobileApps: INSTALLS,
          virtualNumbers: NUMBERS + 1,
          validFrom: '2020-01-01T00:00:00Z',
          validUntil: '2021-01-01T00:00:00Z',
          numbers: [...numbers, '39999'],
        },
      ],
    });
    client = await UdpSipClient.open();
  });
  afterAll(async () => {
    await client?.close();
    await sw?.close();
    await registrar?.stop();
  });

  it(`${INSTALLS} installs refused while expired all take a licence when they re-register after the renewal`, async () => {
    const s = started(sw);
    const burst = (rows: AppRegistrationRow[]) =>
      runSipp({
        scenario: 'register-app.xml',
        target: s.udp,
        calls: rows.length,
        rate: RATE,
        maxConcurrent: 200,
        timeoutSec: TIMEOUT_SEC,
        injection: appRegistrationRows(rows),
      });

    const refused = await burst(installs(403));
    expect(refused.exitCode, describeSippRun(refused)).toBe(0);
    expect(refused.stats?.successful, describeSippRun(refused)).toBe(INSTALLS);
    await s.sidecar.flushRecords();
    const count = (sql: string) => s.db.prepare(sql).pluck().get() as number;
    expect(count('SELECT COUNT(*) FROM app_installs WHERE licensed = 0 AND pn_prid IS NOT NULL')).toBe(INSTALLS);

    // The operator renews (another connection, as the CLI); the daemon's timer reloads the tree.
    must(setLicenses(s.db, 'Estate', { validUntil: Date.parse('2100-01-01T00:00:00Z') }, ADMIN), 'renewal');
    await registerUntil(started(client), s.udp, '39999', 200, performance.now());
    const reloadsBefore = s.logs.filter((l) => l.msg === 'license data reloaded').length;

    const woken = await burst(installs(200));
    expect(woken.exitCode, describeSippRun(woken)).toBe(0);
    expect(woken.stats?.successful, describeSippRun(woken)).toBe(INSTALLS);
    expect(woken.stats?.failed, describeSippRun(woken)).toBe(0);
    expect(count('SELECT COUNT(*) FROM app_installs WHERE licensed = 1')).toBe(INSTALLS);
    expect(count('SELECT COUNT(*) FROM app_installs')).toBe(INSTALLS);
    expect(s.sidecar.live.current.group(s.sidecar.live.index.rootIds().next().value ?? 0)).toMatchObject({ appsUsed: INSTALLS });
    // Each claim was applied to the snapshot as granted; none reloaded the project's tree.
    const reloads = s.logs.filter((l) => l.msg === 'license data reloaded').length - reloadsBefore;
    expect(reloads, `${reloads} tree reloads during ${INSTALLS} claims`).toBeLessThanOrEqual(2);
    expect(s.sidecar.storeHealth.state).toEqual({ writable: true });
  }, 120_000);
});
