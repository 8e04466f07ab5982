import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimInstall,
  findInstalls,
  listInstalls,
  recordRefusedInstall,
  releaseInstall,
  touchInstall,
} from '../../src/store/app-installs.js';
import type { InstallInput } from '../../src/policy/install-ledger.js';
import { listAudit } from '../../src/store/audit-log.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { addGroup } from '../../src/store/groups.js';
import { getLicenses, setLicenses } from '../../src/store/license-settings.js';
import { addNumber, removeNumber } from '../../src/store/numbers.js';
import { addUser, findUser } from '../../src/store/users.js';
import { installInput } from './ledger-fixture.js';
import { count, ctx, ok, T0, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
let rootId: number;
beforeEach(() => {
  t = tempDb();
  rootId = ok(addGroup(t.db, { name: 'Sunrise' }, ctx)).id;
  ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 10, mobileApps: 2 }, ctx));
  ok(addUser(t.db, { login: 'alice', group: 'Sunrise', personalApps: 1 }, ctx));
  ok(addUser(t.db, { login: 'bob', group: 'Sunrise' }, ctx));
  for (const [n, u] of [['1001', 'alice'], ['1002', 'alice'], ['2001', 'bob'], ['2002', 'bob']] as const) {
    ok(addNumber(t.db, { number: n, login: u }, ctx));
  }
});
afterEach(() => t.close());

const input = installInput;

function appsUsed(): { group: number | undefined; alice: number | undefined; bob: number | undefined; licensedRows: number } {
  return {
    group: getLicenses(t.db, rootId)?.appsUsed,
    alice: findUser(t.db, 'alice')?.appsUsed,
    bob: findUser(t.db, 'bob')?.appsUsed,
    licensedRows: t.db.prepare('SELECT COUNT(*) FROM app_installs WHERE licensed = 1').pluck().get() as number,
  };
}

describe('claimInstall', () => {
  it('takes a license once and keeps it on refresh', () => {
    expect(claimInstall(t.db, input('i1', '1001'))).toMatchObject({ ok: true, alreadyLicensed: false });
    expect(claimInstall(t.db, input('i1', '1001', { now: T0 + 1000 }))).toEqual({ ok: true, alreadyLicensed: true });
    expect(appsUsed()).toEqual({ group: 1, alice: 1, bob: 0, licensedRows: 1 });
    expect(findInstalls(t.db, 'i1')[0]).toMatchObject({ licensed: true, licensedAt: T0, lastSeen: T0 + 1000 });
  });

  it('licenses in commit order, after every earlier licence of the tree, and reports the revisions it moved', () => {
    const before = getLicenses(t.db, rootId)?.revision ?? -1;
    const first = claimInstall(t.db, input('i1', '1001', { now: T0 + 5000 }));
    // A second process whose clock runs behind still ranks after the first claim.
    const second = claimInstall(t.db, input('i3', '2001', { now: T0 }));
    expect(first).toMatchObject({
      ok: true,
      claimed: { install: { instanceId: 'i1', number: '1001', rootId }, revisionBefore: before, revisionAfter: before + 1 },
    });
    expect(second).toMatchObject({ claimed: { install: { instanceId: 'i3', number: '2001' }, revisionBefore: before + 1, revisionAfter: before + 2 } });
    expect(getLicenses(t.db, rootId)?.revision).toBe(before + 2);
    const order = t.db.prepare('SELECT instance_id, licensed_at FROM app_installs WHERE licensed = 1 ORDER BY licensed_at, id').all();
    expect(order).toEqual([
      { instance_id: 'i1', licensed_at: T0 + 5000 },
      { instance_id: 'i3', licensed_at: T0 + 5001 },
    ]);
  });

  it("refuses beyond the user's personal license, then beyond the group's, keeping the push parameters", () => {
    expect(claimInstall(t.db, input('i1', '1001'))).toMatchObject({ ok: true, alreadyLicensed: false });
    expect(claimInstall(t.db, input('i2', '1002'))).toEqual({ ok: false, reason: 'personal-license-exceeded' });
    expect(claimInstall(t.db, input('i3', '2001'))).toMatchObject({ ok: true, alreadyLicensed: false });
    expect(claimInstall(t.db, input('i4', '2002'))).toEqual({ ok: false, reason: 'no-mobile-app-license' });
    expect(appsUsed()).toEqual({ group: 2, alice: 1, bob: 1, licensedRows: 2 });
    expect(findInstalls(t.db, 'i4')[0]).toMatchObject({ licensed: false, pnPrid: 'prid-i4', pnProvider: 'apns' });
  });

  it('refuses an unknown number without writing', () => {
    expect(claimInstall(t.db, input('i1', '9999'))).toEqual({ ok: false, reason: 'unknown-number' });
    expect(count(t.db, 'app_installs')).toBe(0);
  });

  it('takes (counts) licenses without limits while restrictions are off', () => {
    ok(setLicenses(t.db, 'Sunrise', { restrictions: false }, ctx));
    for (const [i, n] of [['i1', '1001'], ['i2', '1002'], ['i3', '2001']] as const) {
      expect(claimInstall(t.db, input(i, n))).toMatchObject({ ok: true, alreadyLicensed: false });
    }
    expect(appsUsed()).toEqual({ group: 3, alice: 2, bob: 1, licensedRows: 3 });
  });
});

describe('other install writes', () => {
  it('recordRefusedInstall stores push parameters without taking a license', () => {
    expect(recordRefusedInstall(t.db, input('i1', '1001'))).toBe(true);
    expect(recordRefusedInstall(t.db, input('i1', '1001', { pnPrid: 'rotated', now: T0 + 5 }))).toBe(true);
    expect(recordRefusedInstall(t.db, input('i1', '9999'))).toBe(false);
    expect(findInstalls(t.db, 'i1')).toMatchObject([{ licensed: false, pnPrid: 'rotated', firstSeen: T0, lastSeen: T0 + 5 }]);
    expect(appsUsed().group).toBe(0);
  });

  it('recordRefusedInstall keeps a license an install already holds', () => {
    claimInstall(t.db, input('i1', '1001'));
    recordRefusedInstall(t.db, input('i1', '1001', { now: T0 + 5 }));
    expect(findInstalls(t.db, 'i1')[0]?.licensed).toBe(true);
  });

  it('touchInstall refreshes last_seen and keeps stored push parameters when none are given', () => {
    claimInstall(t.db, input('i1', '1001'));
    expect(touchInstall(t.db, input('i1', '1001', { now: T0 + 60_000, pnPrid: null, pnProvider: null }))).toBe(true);
    expect(touchInstall(t.db, input('nope', '1001'))).toBe(false);
    expect(findInstalls(t.db, 'i1')[0]).toMatchObject({ lastSeen: T0 + 60_000, pnPrid: 'prid-i1', pnProvider: 'apns' });
  });

  it('releaseInstall gives the license back, keeps the row, audits only with a context', () => {
    claimInstall(t.db, input('i1', '1001'));
    expect(ok(releaseInstall(t.db, 'i1', ctx)).map((r) => r.number)).toEqual(['1001']);
    expect(appsUsed()).toEqual({ group: 0, alice: 0, bob: 0, licensedRows: 0 });
    expect(count(t.db, 'app_installs')).toBe(1);
    expect(listAudit(t.db).at(-1)).toMatchObject({ action: 'app.release', target: 'i1', rootGroup: 'Sunrise' });
    const audits = listAudit(t.db).length;
    expect(ok(releaseInstall(t.db, 'i1', ctx))).toEqual([]);
    expect(listAudit(t.db).length).toBe(audits);
    expect(releaseInstall(t.db, 'nope')).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
    expect(claimInstall(t.db, input('i1', '1001'))).toMatchObject({ ok: true, alreadyLicensed: false });
  });

  it('removing a number removes its installs and their licenses (cascade counted by the triggers)', () => {
    claimInstall(t.db, input('i1', '1001'));
    claimInstall(t.db, input('i3', '2001'));
    ok(removeNumber(t.db, '1001', ctx));
    expect(appsUsed()).toEqual({ group: 1, alice: 0, bob: 1, licensedRows: 1 });
    expect(findInstalls(t.db, 'i1')).toEqual([]);
  });

  it('lists licensed installs first in licensing order', () => {
    claimInstall(t.db, input('i1', '1001', { now: T0 + 1 }));
    recordRefusedInstall(t.db, input('i9', '2002', { now: T0 }));
    claimInstall(t.db, input('i3', '2001', { now: T0 + 2 }));
    expect(ok(listInstalls(t.db)).map((a) => a.instanceId)).toEqual(['i1', 'i3', 'i9']);
    expect(listInstalls(t.db, { group: 'Nope' })).toMatchObject({ ok: false });
  });
});

describe('an install is one row whichever identifier it shows', () => {
  const withKeys = (instanceId: string, sipInstance: string | null, pnPrid: string | null, extra: Partial<InstallInput> = {}) =>
    input(instanceId, '1001', { sipInstance, pnPrid, contact: null, ...extra });

  it('a claim by pn-prid alone finds the install stored under its +sip.instance', () => {
    expect(claimInstall(t.db, withKeys('urn:uuid:a', 'urn:uuid:a', 'tok-a'))).toMatchObject({ ok: true, alreadyLicensed: false });
    expect(claimInstall(t.db, withKeys('tok-a', null, 'tok-a'))).toEqual({ ok: true, alreadyLicensed: true });
    expect(t.db.prepare('SELECT instance_id, sip_instance, pn_prid, licensed FROM app_installs').all()).toEqual([
      { instance_id: 'urn:uuid:a', sip_instance: 'urn:uuid:a', pn_prid: 'tok-a', licensed: 1 },
    ]);
  });

  it('an install stored under its token keeps its +sip.instance once it shows one', () => {
    claimInstall(t.db, withKeys('tok-b', null, 'tok-b'));
    expect(claimInstall(t.db, withKeys('urn:uuid:b', 'urn:uuid:b', 'tok-b'))).toEqual({ ok: true, alreadyLicensed: true });
    expect(findInstalls(t.db, 'tok-b')).toHaveLength(1);
    expect(t.db.prepare('SELECT sip_instance FROM app_installs').pluck().get()).toBe('urn:uuid:b');
  });

  it('another +sip.instance showing the same token is another install (its own licence, or none)', () => {
    claimInstall(t.db, withKeys('urn:uuid:a', 'urn:uuid:a', 'tok-a'));
    // Alice's personal app licence (1) is used: the second install is refused, not carried.
    expect(claimInstall(t.db, withKeys('urn:uuid:c', 'urn:uuid:c', 'tok-a'))).toEqual({ ok: false, reason: 'personal-license-exceeded' });
    expect(appsUsed()).toMatchObject({ alice: 1, licensedRows: 1 });
  });

  it('the migration takes urn: ids stored before it as their +sip.instance', () => {
    const raw = new Database(':memory:');
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) raw.exec(m.sql);
    raw.pragma('user_version = 2');
    raw.exec(`INSERT INTO groups (id, name, root_id, created_at) VALUES (1, 'g', 1, 0);
      INSERT INTO licenses (group_id, updated_at) VALUES (1, 0);
      INSERT INTO users (id, login, group_id, root_id, created_at) VALUES (1, 'u', 1, 1, 0);
      INSERT INTO numbers (id, number, user_id, root_id, created_at) VALUES (1, '1', 1, 1, 0);
      INSERT INTO app_installs (instance_id, number_id, user_id, root_id, pn_prid, first_seen, last_seen)
        VALUES ('urn:uuid:old', 1, 1, 1, 'p1', 0, 0), ('p2', 1, 1, 1, 'p2', 0, 0);`);
    migrate(raw);
    expect(raw.prepare('SELECT instance_id, sip_instance FROM app_installs ORDER BY id').all()).toEqual([
      { instance_id: 'urn:uuid:old', sip_instance: 'urn:uuid:old' },
      { instance_id: 'p2', sip_instance: null },
    ]);
    raw.close();
  });
});
