import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { addGroup } from '../../src/store/groups.js';
import { getLicenses, setLicenses } from '../../src/store/license-settings.js';
import { addNumber, listNumbers, removeNumber } from '../../src/store/numbers.js';
import { addUser, findUser, listUsers, removeUser, setUserLicenses } from '../../src/store/users.js';
import { count, ctx, fingerprint, ok, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
let rootId: number;
beforeEach(() => {
  t = tempDb();
  rootId = ok(addGroup(t.db, { name: 'Sunrise' }, ctx)).id;
  ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
  ok(addGroup(t.db, { name: 'Harbour' }, ctx));
  ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 3, mobileApps: 2 }, ctx));
});
afterEach(() => t.close());

function used(): { group: number | undefined; alice: number | undefined; rows: number } {
  return {
    group: getLicenses(t.db, rootId)?.numbersUsed,
    alice: findUser(t.db, 'alice')?.numbersUsed,
    rows: count(t.db, 'numbers'),
  };
}

describe('users', () => {
  it("counts a subgroup's user against the root group", () => {
    const u = ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
    expect(u).toMatchObject({ group: 'Block A', root: 'Sunrise', rootId, personalNumbers: null, personalApps: null });
  });

  it("refuses a personal license above the group's limit, a duplicate login, an unknown group", () => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
    const before = fingerprint(t.db);
    expect(addUser(t.db, { login: 'bob', group: 'Sunrise', personalNumbers: 4 }, ctx)).toMatchObject({
      ok: false,
      failure: { kind: 'invalid', field: 'personalNumbers' },
    });
    expect(addUser(t.db, { login: 'bob', group: 'Sunrise', personalApps: 3 }, ctx)).toMatchObject({
      ok: false,
      failure: { kind: 'invalid', field: 'personalApps' },
    });
    expect(addUser(t.db, { login: 'alice', group: 'Sunrise' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(addUser(t.db, { login: 'bob', group: 'Nope' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
    expect(addUser(t.db, { login: 'bad login', group: 'Sunrise' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
    expect(setUserLicenses(t.db, 'alice', { personalNumbers: 4 }, ctx)).toMatchObject({ ok: false });
    expect(setUserLicenses(t.db, 'alice', { personalNumbers: -1 }, ctx)).toMatchObject({ ok: false });
    expect(fingerprint(t.db)).toBe(before);
  });

  it('sets and clears personal licenses, keeping the other one', () => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A', personalNumbers: 2, personalApps: 1 }, ctx));
    const u = ok(setUserLicenses(t.db, 'alice', { personalNumbers: null }, ctx));
    expect(u.after).toEqual({ personalNumbers: null, personalApps: 1 });
    expect(listAudit(t.db).at(-1)).toMatchObject({
      action: 'user.licenses',
      oldValue: { personalNumbers: 2, personalApps: 1 },
      newValue: { personalNumbers: null, personalApps: 1 },
    });
  });

  it("lists a group's whole subtree", () => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
    ok(addUser(t.db, { login: 'bob', group: 'Sunrise' }, ctx));
    ok(addUser(t.db, { login: 'carl', group: 'Harbour' }, ctx));
    expect(ok(listUsers(t.db, { group: 'Sunrise' })).map((u) => u.login)).toEqual(['alice', 'bob']);
    expect(ok(listUsers(t.db, { group: 'Block A' })).map((u) => u.login)).toEqual(['alice']);
    expect(ok(listUsers(t.db)).map((u) => u.login)).toEqual(['alice', 'bob', 'carl']);
  });

  it('refuses to remove a user that owns numbers', () => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    expect(removeUser(t.db, 'alice', ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    ok(removeNumber(t.db, '1001', ctx));
    ok(removeUser(t.db, 'alice', ctx));
    expect(findUser(t.db, 'alice')).toBeUndefined();
  });
});

describe('numbers', () => {
  beforeEach(() => {
    ok(addUser(t.db, { login: 'alice', group: 'Block A', personalNumbers: 2 }, ctx));
    ok(addUser(t.db, { login: 'bob', group: 'Sunrise' }, ctx));
  });

  it('keeps the counters equal to the rows on add and remove', () => {
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    ok(addNumber(t.db, { number: '2001', login: 'bob' }, ctx));
    expect(used()).toEqual({ group: 2, alice: 1, rows: 2 });
    ok(removeNumber(t.db, '1001', ctx));
    expect(used()).toEqual({ group: 1, alice: 0, rows: 1 });
  });

  it("refuses with 'limit' once the user's personal license is used up", () => {
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    ok(addNumber(t.db, { number: '1002', login: 'alice' }, ctx));
    const before = fingerprint(t.db);
    expect(addNumber(t.db, { number: '1003', login: 'alice' }, ctx)).toMatchObject({
      ok: false,
      failure: { kind: 'limit', field: 'personalNumbers' },
    });
    expect(fingerprint(t.db)).toBe(before);
  });

  it("refuses with 'limit' once the group's virtual numbers are used up, whoever asks", () => {
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    ok(addNumber(t.db, { number: '2001', login: 'bob' }, ctx));
    ok(addNumber(t.db, { number: '2002', login: 'bob' }, ctx));
    expect(addNumber(t.db, { number: '2003', login: 'bob' }, ctx)).toMatchObject({
      ok: false,
      failure: { kind: 'limit', field: 'virtualNumbers' },
    });
    expect(used()).toEqual({ group: 3, alice: 1, rows: 3 });
  });

  it('enforces nothing while restrictions are off, and refuses again below a lowered limit', () => {
    ok(setLicenses(t.db, 'Sunrise', { restrictions: false }, ctx));
    for (const n of ['2001', '2002', '2003', '2004']) ok(addNumber(t.db, { number: n, login: 'bob' }, ctx));
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    ok(addNumber(t.db, { number: '1002', login: 'alice' }, ctx));
    ok(addNumber(t.db, { number: '1003', login: 'alice' }, ctx));
    ok(setLicenses(t.db, 'Sunrise', { restrictions: true }, ctx));
    expect(addNumber(t.db, { number: '2005', login: 'bob' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'limit' } });
    expect(getLicenses(t.db, rootId)).toMatchObject({ numbersUsed: 7, virtualNumbers: 3 });
  });

  it('refuses duplicates, bad numbers and unknown users', () => {
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    expect(addNumber(t.db, { number: '1001', login: 'bob' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(addNumber(t.db, { number: '10 01', login: 'bob' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
    expect(addNumber(t.db, { number: '1002', login: 'nobody' }, ctx)).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
    expect(removeNumber(t.db, '9999', ctx)).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
    ok(addNumber(t.db, { number: '+4930123', login: 'bob' }, ctx));
  });

  it('lists by subtree and by user in creation order', () => {
    ok(addNumber(t.db, { number: '2001', login: 'bob' }, ctx));
    ok(addNumber(t.db, { number: '1001', login: 'alice' }, ctx));
    expect(ok(listNumbers(t.db, { group: 'Block A' })).map((n) => n.number)).toEqual(['1001']);
    expect(ok(listNumbers(t.db, { group: 'Sunrise' })).map((n) => n.number)).toEqual(['2001', '1001']);
    expect(ok(listNumbers(t.db, { user: 'bob' })).map((n) => n.number)).toEqual(['2001']);
    expect(ok(listNumbers(t.db, { group: 'Harbour' }))).toEqual([]);
    expect(listNumbers(t.db, { user: 'nobody' })).toMatchObject({ ok: false, failure: { kind: 'not-found', field: 'user' } });
  });
});
