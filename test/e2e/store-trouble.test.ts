import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimInstall, findInstalls } from '../../src/store/app-installs.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { describeSippRun, runSipp, startSippServer, type SippServer } from '../support/sipp.js';
import { callRows, registrationRows } from '../support/sipp-injection.js';
import { holdWriteLock, type LockHolder } from '../support/lock-holder.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { started, startTestSidecar, type LogLine, type ProjectSpec, type TestSidecar } from './sidecar-fixture.js';
import { UdpSipClient, type SipAnswer } from './udp-sip-client.js';

/*
 * Issue 8, items 4 and 5, end to end: the sidecar in front of a Kamailio registrar while another
 * process holds the SQLite write lock, and with a store that is read-only or full. Licensed devices
 * keep registering and calling from the snapshot; a new app install waits its bounded time and is
 * answered 503 + Retry-After, never forwarded unrecorded; the condition is logged once.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/store-trouble.test.ts SKIPPED: ${missing} ***\n`);

const TIMEOUT_SEC = 15;
const CLAIM_WAIT_MS = 500;
const LOCK_MS = 4000;
const TOWER: ProjectSpec = {
  group: 'Tower',
  mobileApps: 5,
  validFrom: OPEN_FROM,
  validUntil: OPEN_UNTIL,
  numbers: ['7001', '7002', '7003', '7004', '7005', '7006', '7007', '7008'],
};

/** An app REGISTER's Contact parameters (RFC 8599 push parameters, RFC 5626 instance). */
function app(instance: string) {
  return {
    uriParams: `;pn-provider=apns;pn-prid=token-${instance};pn-param=TEAM.com.example.voip`,
    headerParams: `;+sip.instance="<urn:uuid:${instance}>"`,
  };
}

function storeLines(logs: readonly LogLine[]): string[] {
  return logs.filter((l) => typeof l.store === 'string').map((l) => String(l.store));
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe.skipIf(missing !== undefined)(`the store cannot be written${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let client: UdpSipClient | undefined;
  const sidecars: TestSidecar[] = [];
  const holders: LockHolder[] = [];
  const servers: SippServer[] = [];

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    client = await UdpSipClient.open();
  });
  afterEach(async () => {
    for (const h of holders.splice(0)) h.stop();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await Promise.all(sidecars.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await client?.close();
    await registrar?.stop();
  });

  async function sidecar(extra: { writerPragmas?: readonly string[]; seed?: Parameters<typeof startTestSidecar>[0]['seed'] } = {}) {
    const sw = await startTestSidecar({
      upstream: { port: started(registrar).port },
      policy: { claimTimeoutMs: CLAIM_WAIT_MS },
      projects: [TOWER],
      ...extra,
    });
    sidecars.push(sw);
    return sw;
  }

  function register(sw: TestSidecar, number: string, more: Partial<Parameters<UdpSipClient['registerText']>[1]> = {}) {
    const c = started(client);
    const { text, callId } = c.registerText(sw.udp, { number, ...more });
    return c.request(sw.udp, text, callId, 12_000);
  }

  async function timed(answer: Promise<SipAnswer | null>): Promise<{ answer: SipAnswer | null; ms: number }> {
    const t0 = performance.now();
    const a = await answer;
    return { answer: a, ms: performance.now() - t0 };
  }

  it('while another process holds the write lock, licensed devices register and call; a new install gets 503 after its wait', async () => {
    const sw = await sidecar();
    expect((await register(sw, '7001', app('licensed')))?.status).toBe(200);
    const uas = await startSippServer({ scenario: 'uas.xml', calls: 20, timeoutSec: TIMEOUT_SEC });
    servers.push(uas);
    const reg = await runSipp({
      scenario: 'register.xml',
      target: sw.udp,
      calls: 1,
      timeoutSec: TIMEOUT_SEC,
      injection: registrationRows([{ number: '7002', contact: `${uas.host}:${uas.port}` }]),
    });
    expect(reg.exitCode, describeSippRun(reg)).toBe(0);

    const holder = holdWriteLock(sw.dbPath, LOCK_MS);
    holders.push(holder);
    await holder.locked;

    const newInstall = timed(register(sw, '7003', app('newcomer')));
    // Licensed traffic for about 3 s of the lock: plain devices, and the licensed app refreshing.
    const calls = runSipp({
      scenario: 'uac-invite.xml',
      target: sw.udp,
      calls: 20,
      rate: 8,
      timeoutSec: TIMEOUT_SEC,
      injection: callRows(Array.from({ length: 20 }, () => ({ caller: '7004', callee: '7002' }))),
    });
    const registers: Promise<{ answer: SipAnswer | null; ms: number }>[] = [];
    for (let i = 0; i < 100; i++) {
      const number = i % 4 === 0 ? '7001' : `700${5 + (i % 3)}`;
      registers.push(timed(register(sw, number, number === '7001' ? app('licensed') : {})));
      await new Promise((r) => setTimeout(r, 30));
    }
    const answered = await Promise.all(registers);
    const call = await calls;
    const claim = await newInstall;
    await holder.released;

    expect(answered.map((a) => a.answer?.status)).toEqual(answered.map(() => 200));
    const p99 = percentile(answered.map((a) => a.ms), 99);
    console.log(`REGISTER p99 while another process held the write lock: ${p99.toFixed(1)} ms (${answered.length} requests)`);
    // Not a speed assertion (the p99 target is measured in bench:sip): a loop that waits on the
    // lock answers nothing for seconds (4.5 s here before the writer thread), a free one at once
    // even on a loaded machine.
    expect(p99, `REGISTER p99 ${p99.toFixed(1)} ms while the lock was held`).toBeLessThan(1500);
    expect(call.exitCode, describeSippRun(call)).toBe(0);
    expect(call.stats?.successful, describeSippRun(call)).toBe(20);

    expect(claim.answer?.status).toBe(503);
    expect(claim.answer?.header('retry-after')).toBe('5');
    expect(claim.ms).toBeGreaterThanOrEqual(CLAIM_WAIT_MS - 50);
    expect(claim.ms).toBeLessThan(LOCK_MS);
    expect(findInstalls(sw.db, 'urn:uuid:newcomer').filter((i) => i.licensed)).toEqual([]);
    // One line per answer (a retransmission that came while the claim waited shares its answer).
    const unavailable = sw.logs.filter((l) => l.msg === 'unavailable');
    expect(unavailable.length).toBeGreaterThan(0);
    for (const line of unavailable) expect(line).toMatchObject({ number: '7003', reason: 'install-not-recorded', fault: 'locked' });

    // Once the lock is gone, the retry takes the licence.
    expect((await register(sw, '7003', app('newcomer')))?.status).toBe(200);
    expect(findInstalls(sw.db, 'urn:uuid:newcomer')[0]).toMatchObject({ licensed: true });
    expect(storeLines(sw.logs)).toEqual(['unwritable', 'writable']);
  }, 90_000);

  it.each([
    ['read-only', 'query_only = 1'],
    // SQLite keeps max_page_count at no less than the current size: the file is full as it stands.
    ['full', 'max_page_count = 1'],
  ])('a %s store grants no new install (503), while licensed devices and apps keep working', async (kind, pragma) => {
    const sw = await sidecar({
      writerPragmas: [pragma],
      seed: (db) => {
        claimInstall(db, { instanceId: 'urn:uuid:held', number: '7001', pnProvider: 'apns', pnPrid: 'token-held', pnParam: 'p', contact: null, userAgent: null, now: Date.now() });
      },
    });
    // A long Contact needs pages a full store cannot add.
    const big = { ...app('newcomer'), uriParams: `${app('newcomer').uriParams};x-pad=${'p'.repeat(30_000)}` };
    for (let i = 0; i < 3; i++) {
      const claim = await register(sw, '7003', kind === 'full' ? big : app('newcomer'));
      expect(claim?.status).toBe(503);
    }
    expect((await register(sw, '7001', app('held')))?.status).toBe(200);
    expect((await register(sw, '7004'))?.status).toBe(200);
    expect(findInstalls(sw.db, 'urn:uuid:newcomer')).toEqual([]);
    expect(storeLines(sw.logs)).toEqual(['unwritable']);
    expect(sw.logs.find((l) => l.store === 'unwritable')).toMatchObject({ level: 40, fault: kind });
  });
});

