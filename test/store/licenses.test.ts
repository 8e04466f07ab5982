import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { addGroup } from '../../src/store/groups.js';
import { getLicenses, setLicenses, type LicenseChange } from '../../src/store/license-settings.js';
import { addUser } from '../../src/store/users.js';
import { ctx, DAY, fingerprint, ok, T0, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
let rootId: number;
beforeEach(() => {
  t = tempDb();
  rootId = ok(addGroup(t.db, { name: 'Sunrise' }, ctx)).id;
  ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
  ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 10, mobileApps: 5 }, ctx));
});
afterEach(() => t.close());

describe('setLicenses', () => {
  it('merges the change with the current values and bumps the revision', () => {
    const before = getLicenses(t.db, rootId);
    const update = ok(setLicenses(t.db, 'Sunrise', { mobileApps: 8, validFrom: T0, validUntil: T0 + 365 * DAY, validity: true }, ctx));
    expect(update.after).toMatchObject({ restrictions: true, virtualNumbers: 10, mobileApps: 8, validity: true, validFrom: T0 });
    const after = getLicenses(t.db, rootId);
    expect(after?.mobileApps).toBe(8);
    expect(after?.revision).toBeGreaterThan(before?.revision ?? Infinity);
  });

  const invalid: [string, LicenseChange, string, 'invalid' | 'not-found'][] = [
    ['a negative limit', { virtualNumbers: -1 }, 'virtualNumbers', 'invalid'],
    ['a fractional limit', { mobileApps: 1.5 }, 'mobileApps', 'invalid'],
    ['apps above the current numbers', { mobileApps: 11 }, 'mobileApps', 'invalid'],
    ['numbers below the current apps', { virtualNumbers: 4 }, 'mobileApps', 'invalid'],
    ['an end not after the start', { validFrom: T0, validUntil: T0 }, 'validUntil', 'invalid'],
    ['a negative reminder', { remindDays: -3 }, 'remindDays', 'invalid'],
  ];
  for (const [what, change, field, kind] of invalid) {
    it(`refuses ${what} as a value and writes nothing`, () => {
      const before = fingerprint(t.db);
      expect(setLicenses(t.db, 'Sunrise', change, ctx)).toMatchObject({ ok: false, failure: { kind, field } });
      expect(fingerprint(t.db)).toBe(before);
    });
  }

  it('checks the end against a start stored earlier', () => {
    ok(setLicenses(t.db, 'Sunrise', { validFrom: T0 + DAY, validity: true }, ctx));
    expect(setLicenses(t.db, 'Sunrise', { validUntil: T0 }, ctx)).toMatchObject({ ok: false, failure: { field: 'validUntil' } });
  });

  it('refuses licences on a subgroup and on an unknown group', () => {
    expect(setLicenses(t.db, 'Block A', { virtualNumbers: 1 }, ctx)).toMatchObject({
      ok: false,
      failure: { kind: 'invalid', field: 'group' },
    });
    expect(setLicenses(t.db, 'Nope', { virtualNumbers: 1 }, ctx)).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
  });

  it('refuses a limit below an existing personal license, naming the user', () => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A', personalNumbers: 6, personalApps: 4 }, ctx));
    const numbers = setLicenses(t.db, 'Sunrise', { virtualNumbers: 5, mobileApps: 5 }, ctx);
    expect(numbers).toMatchObject({ ok: false, failure: { kind: 'invalid', field: 'virtualNumbers' } });
    expect(!numbers.ok && numbers.failure.message).toContain("'alice'");
    expect(setLicenses(t.db, 'Sunrise', { mobileApps: 3 }, ctx)).toMatchObject({ ok: false, failure: { field: 'mobileApps' } });
    ok(setLicenses(t.db, 'Sunrise', { virtualNumbers: 6, mobileApps: 4 }, ctx));
  });

  it('audits old and new settings with ISO times', () => {
    ok(setLicenses(t.db, 'Sunrise', { validUntil: T0, validity: true }, ctx));
    const last = listAudit(t.db).at(-1);
    expect(last).toMatchObject({ action: 'licenses.set', outcome: 'ok', rootGroup: 'Sunrise', target: 'Sunrise' });
    expect(last?.oldValue).toMatchObject({ validity: false, validUntil: null, virtualNumbers: 10 });
    expect(last?.newValue).toMatchObject({ validity: true, validUntil: '2026-01-01T00:00:00Z' });
  });
});
