import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { addGroup, describeGroup, findGroup, listGroups, removeGroup, rootGroupName } from '../../src/store/groups.js';
import { getLicenses } from '../../src/store/license-settings.js';
import { addUser } from '../../src/store/users.js';
import { count, ctx, fingerprint, ok, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
beforeEach(() => {
  t = tempDb();
});
afterEach(() => t.close());

describe('groups', () => {
  it('makes a root group its own root, with a Licences row whose restrictions are off', () => {
    const g = ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    expect(g.parentId).toBeNull();
    expect(g.rootId).toBe(g.id);
    const l = getLicenses(t.db, g.id);
    expect(l).toMatchObject({ restrictions: false, virtualNumbers: 0, mobileApps: 0, validity: false, numbersUsed: 0 });
  });

  it('resolves the root of any depth and creates no Licences row for subgroups', () => {
    const root = ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
    const floor = ok(addGroup(t.db, { name: 'Floor 3', parent: 'Block A' }, ctx));
    ok(addGroup(t.db, { name: 'Harbour' }, ctx));
    expect(floor.rootId).toBe(root.id);
    expect(rootGroupName(t.db, 'Floor 3')).toBe('Sunrise');
    expect(getLicenses(t.db, floor.id)).toBeUndefined();
    expect(count(t.db, 'licenses')).toBe(2);
    expect(describeGroup(t.db, 'Floor 3')?.path).toEqual(['Sunrise', 'Block A', 'Floor 3']);
    expect(describeGroup(t.db, 'Sunrise')?.children).toEqual(['Block A']);
    expect(listGroups(t.db).map((g) => [g.name, g.root])).toEqual([
      ['Sunrise', 'Sunrise'],
      ['Block A', 'Sunrise'],
      ['Floor 3', 'Sunrise'],
      ['Harbour', 'Harbour'],
    ]);
  });

  it('refuses duplicates, unknown parents and bad names as values, writing nothing', () => {
    ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    const before = fingerprint(t.db);
    const dup = addGroup(t.db, { name: 'Sunrise' }, ctx);
    const orphan = addGroup(t.db, { name: 'X', parent: 'Nowhere' }, ctx);
    const blank = addGroup(t.db, { name: ' padded ' }, ctx);
    expect(dup).toMatchObject({ ok: false, failure: { kind: 'conflict', field: 'name' } });
    expect(orphan).toMatchObject({ ok: false, failure: { kind: 'not-found', field: 'parent' } });
    expect(blank).toMatchObject({ ok: false, failure: { kind: 'invalid', field: 'name' } });
    expect(fingerprint(t.db)).toBe(before);
  });

  it('refuses to remove a group with subgroups or users, and removes an empty one with its licences', () => {
    const root = ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
    ok(addUser(t.db, { login: 'alice', group: 'Block A' }, ctx));
    expect(removeGroup(t.db, 'Sunrise', ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(removeGroup(t.db, 'Block A', ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(removeGroup(t.db, 'Nope', ctx)).toMatchObject({ ok: false, failure: { kind: 'not-found' } });
    t.db.prepare('DELETE FROM users').run();
    ok(removeGroup(t.db, 'Block A', ctx));
    ok(removeGroup(t.db, 'Sunrise', ctx));
    expect(findGroup(t.db, 'Sunrise')).toBeUndefined();
    expect(getLicenses(t.db, root.id)).toBeUndefined();
  });

  it('audits additions and removals with the root group name', () => {
    ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    ok(addGroup(t.db, { name: 'Block A', parent: 'Sunrise' }, ctx));
    ok(removeGroup(t.db, 'Block A', ctx));
    expect(listAudit(t.db).map((e) => [e.action, e.outcome, e.rootGroup, e.target, e.operator])).toEqual([
      ['group.add', 'ok', 'Sunrise', 'Sunrise', 'tester'],
      ['group.add', 'ok', 'Sunrise', 'Block A', 'tester'],
      ['group.remove', 'ok', 'Sunrise', 'Block A', 'tester'],
    ]);
    expect(listAudit(t.db)[2]?.oldValue).toEqual({ name: 'Block A', parent: 'Sunrise' });
  });
});
