import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnforcementMode } from '../../src/policy/enforcement-mode.js';
import { REASONS } from '../../src/policy/reason-table.js';
import { setLicenses } from '../../src/store/license-settings.js';
import { boundAors, kamcmdMissing } from '../support/kamailio-location.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { scrape } from '../support/prom-text.js';
import { CROWDED, LAPSED, UNKNOWN_NUMBER } from './projects.js';
import { ADMIN, startTestSidecar, type TestSidecar, type TestSidecarOptions } from './sidecar-fixture.js';
import { UdpSipClient } from './udp-sip-client.js';
import { until } from './within.js';

/*
 * Issue 11 item 4: shadow mode in front of a real Kamailio registrar. A REGISTER the licence
 * would refuse is decided, logged and counted as "would refuse" with its reason, and forwarded:
 * Kamailio binds it (read back from its location table). A project's own setting wins over
 * policy.mode both ways, and a change made while the sidecar runs applies within a reload.
 */

const missing = missingPeers() ?? kamcmdMissing();
if (missing) console.warn(`\n*** test/e2e/shadow-mode.test.ts SKIPPED: ${missing} ***\n`);

interface Rig {
  registrar?: KamailioHandle;
  sw?: TestSidecar;
  client?: UdpSipClient;
}

/** A Kamailio registrar (ctl on), a sidecar in front of it with Lapsed and Crowded, a UDP client; stopped after the suite. */
function rig(policy: NonNullable<TestSidecarOptions['policy']>, project: string, enforcement: EnforcementMode): Rig {
  const r: Rig = {};
  beforeAll(async () => {
    r.registrar = await startKamailio({ config: 'registrar', ctl: true });
    r.sw = await startTestSidecar({
      upstream: { port: r.registrar.port },
      policy: { unknownNumbers: 'reject', ...policy },
      projects: [LAPSED, CROWDED],
      health: { upstreamPing: null },
      seed: (db) => {
        const set = setLicenses(db, project, { enforcement }, ADMIN);
        if (!set.ok) throw new Error(set.failure.message);
      },
    });
    r.client = await UdpSipClient.open();
  });
  afterAll(async () => {
    await r.client?.close();
    await r.sw?.close();
    await r.registrar?.stop();
  });
  return r;
}

describe.skipIf(missing !== undefined)(`shadow mode against Kamailio${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  describe('policy.mode enforce, project Lapsed in shadow', () => {
    const r = rig({}, 'Lapsed', 'shadow');
    it('forwards the expired project\'s REGISTER, which Kamailio binds, logging and counting it as would-refuse', async () => {
      const answer = await r.client?.register(r.sw?.udp ?? '', { number: '5001' });
      expect(answer?.status).toBe(200);
      expect(answer?.header('server')).toMatch(/kamailio/i);
      expect(await boundAors(r.registrar?.ctlSocket ?? '')).toContain('5001');

      const line = r.sw?.logs.find((l) => l.msg === 'would refuse' && l.number === '5001');
      expect(line).toMatchObject({ level: 30, decision: 'would-refuse', reason: 'license-expired', group: 'Lapsed', mode: { mode: 'shadow', source: 'project' } });
      const m = await scrape(r.sw?.adminUrl ?? '');
      const labels = { method: 'REGISTER', transport: 'udp', reason: REASONS['license-expired'].metric };
      expect(m.value('sipwarden_decisions_total', { ...labels, decision: 'would_refuse' })).toBe(1);
      expect(m.all('sipwarden_decisions_total', { ...labels, decision: 'deny' })).toEqual([]);
    });

    it('still refuses the project that enforces (policy.mode) with 403, and Kamailio binds nothing', async () => {
      const answer = await r.client?.register(r.sw?.udp ?? '', { number: '3003' });
      expect(answer?.status).toBe(403);
      expect(answer?.header('x-sipwarden-reason')).toBe('virtual-numbers-exceeded');
      expect(await boundAors(r.registrar?.ctlSocket ?? '')).not.toContain('3003');
    });

    it('applies a change made while it runs: Crowded set to shadow forwards 3003, back to default refuses it', async () => {
      const db = r.sw?.db;
      if (!db) throw new Error('no sidecar');
      const toShadow = setLicenses(db, 'Crowded', { enforcement: 'shadow' }, ADMIN);
      expect(toShadow.ok).toBe(true);
      await until(10_000, async () => (await r.client?.register(r.sw?.udp ?? '', { number: '3003' }))?.status === 200, '3003 forwarded');
      expect(await boundAors(r.registrar?.ctlSocket ?? '')).toContain('3003');
      expect(setLicenses(db, 'Crowded', { enforcement: null }, ADMIN).ok).toBe(true);
      await until(10_000, async () => (await r.client?.register(r.sw?.udp ?? '', { number: '3003' }))?.status === 403, '3003 refused again');
    });
  });

  describe('policy.mode shadow, project Crowded set to enforce', () => {
    const r = rig({ mode: 'shadow' }, 'Crowded', 'enforce');
    it('forwards what policy.mode shadow would refuse (an unknown number, an expired project), with their reasons', async () => {
      expect((await r.client?.register(r.sw?.udp ?? '', { number: UNKNOWN_NUMBER }))?.status).toBe(200);
      expect((await r.client?.register(r.sw?.udp ?? '', { number: '5002' }))?.status).toBe(200);
      const bound = await boundAors(r.registrar?.ctlSocket ?? '');
      expect(bound).toEqual(expect.arrayContaining([UNKNOWN_NUMBER, '5002']));
      const m = await scrape(r.sw?.adminUrl ?? '');
      const base = { method: 'REGISTER', transport: 'udp', decision: 'would_refuse' };
      expect(m.value('sipwarden_decisions_total', { ...base, reason: 'unknown_number' })).toBe(1);
      expect(m.value('sipwarden_decisions_total', { ...base, reason: 'license_expired' })).toBe(1);
      const lines = r.sw?.logs.filter((l) => l.msg === 'would refuse') ?? [];
      expect(lines.map((l) => [l.number, l.reason, (l.mode as { source: string }).source])).toEqual([
        [UNKNOWN_NUMBER, 'unknown-number', 'policy'],
        ['5002', 'license-expired', 'policy'],
      ]);
    });

    it('refuses the project whose own setting is enforce', async () => {
      const answer = await r.client?.register(r.sw?.udp ?? '', { number: '3003' });
      expect(answer?.status).toBe(403);
      expect(await boundAors(r.registrar?.ctlSocket ?? '')).not.toContain('3003');
    });
  });
});
