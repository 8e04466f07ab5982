import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimInstall } from '../../src/store/app-installs.js';
import { addGroup } from '../../src/store/groups.js';
import { licenseReport, NotARootGroupError } from '../../src/store/license-report.js';
import { setLicenses } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import { addUser } from '../../src/store/users.js';
import { ctx, DAY, ok, T0, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
beforeEach(() => {
  t = tempDb();
  ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
  ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
  ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
  ok(setLicenses(t.db, 'Sunrise', { virtualNumbers: 5, mobileApps: 2 }, ctx));
  for (const n of ['1001', '1002', '1003']) ok(addNumber(t.db, { number: n, login: 'alice' }, ctx));
  claimInstall(t.db, { instanceId: 'i1', number: '1001', pnProvider: null, pnPrid: null, pnParam: null, contact: null, userAgent: null, now: T0 });
});
afterEach(() => t.close());

describe('licenseReport', () => {
  it('shows the limits also while restrictions are off', () => {
    expect(licenseReport(t.db, 'Sunrise', T0)).toEqual({
      group: 'Sunrise',
      restrictions: false,
      virtualNumbers: { limit: 5, used: 3, remaining: 2, over: 0 },
      mobileApps: { limit: 2, used: 1, remaining: 1, over: 0 },
      validity: { enabled: false, validFrom: null, validUntil: null, state: 'unrestricted' },
      enforcement: null,
    });
  });

  it('reports the excess of a lowered limit as over, never a negative remaining', () => {
    ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 1, mobileApps: 0 }, ctx));
    const r = licenseReport(t.db, 'Sunrise', T0);
    expect(r.virtualNumbers).toEqual({ limit: 1, used: 3, remaining: 0, over: 2 });
    expect(r.mobileApps).toEqual({ limit: 0, used: 1, remaining: 0, over: 1 });
  });

  it('gives the window state and ISO 8601 UTC bounds', () => {
    ok(setLicenses(t.db, 'Sunrise', { restrictions: true, validity: true, validFrom: T0, validUntil: T0 + 30 * DAY }, ctx));
    const at = (now: number) => licenseReport(t.db, 'Sunrise', now).validity;
    expect(at(T0)).toEqual({ enabled: true, validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-01-31T00:00:00Z', state: 'active' });
    expect(at(T0 - 1).state).toBe('not-yet-valid');
    expect(at(T0 + 30 * DAY).state).toBe('expired');
  });

  it('throws for a name that is not a root group (callers resolve it first)', () => {
    expect(() => licenseReport(t.db, 'Block A', T0)).toThrow(NotARootGroupError);
    expect(() => licenseReport(t.db, 'Nope', T0)).toThrow(NotARootGroupError);
  });
});
