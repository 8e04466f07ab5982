import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/policy/decision.js';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import type { SnapshotIndex } from '../../src/policy/snapshot-builder.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { loadGroup, loadSnapshot, loadSnapshotFor, readRevisions, refreshSnapshot } from '../../src/store/snapshot-loader.js';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

let dir: string;
let db: Db;
const opened: Db[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sipwarden-snapshot-'));
  db = openDatabase(join(dir, 'store.db'), { create: true });
  opened.push(db);
});

afterEach(() => {
  for (const d of opened.splice(0)) if (d.open) d.close();
  rmSync(dir, { recursive: true, force: true });
});

// Plain SQL: the repositories are someone else's; the schema is what the loader reads.
function group(id: number, name: string, parentId: number | null = null, rootId = id): void {
  db.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)').run(id, name, parentId, rootId, T0);
}
function setLicense(groupId: number, l: { restrictions?: 0 | 1; vn?: number; apps?: number; validity?: 0 | 1; from?: number | null; until?: number | null } = {}): void {
  db.prepare(
    `INSERT INTO licenses (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(groupId, l.restrictions ?? 1, l.vn ?? 10, l.apps ?? 5, l.validity ?? 0, l.from ?? null, l.until ?? null, T0);
}
function user(id: number, login: string, groupId: number, rootId: number, personalNumbers: number | null = null, personalApps: number | null = null): void {
  db.prepare('INSERT INTO users (id, login, group_id, root_id, personal_numbers, personal_apps, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    id, login, groupId, rootId, personalNumbers, personalApps, T0,
  );
}
function number(num: string, userId: number, rootId: number): number {
  return Number(db.prepare('INSERT INTO numbers (number, user_id, root_id, created_at) VALUES (?, ?, ?, ?)').run(num, userId, rootId, T0).lastInsertRowid);
}
function install(instanceId: string, num: string, licensedAt: number | null): void {
  const n = db.prepare('SELECT id, user_id, root_id FROM numbers WHERE number = ?').get(num) as { id: number; user_id: number; root_id: number };
  db.prepare(
    `INSERT INTO app_installs (instance_id, number_id, user_id, root_id, licensed, licensed_at, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(instanceId, n.id, n.user_id, n.root_id, licensedAt === null ? 0 : 1, licensedAt, T0, T0);
}

/** Two projects: "sunrise" (with a sub-group) and "harbour" (restrictions off). */
function seed(): void {
  group(1, 'sunrise');
  group(2, 'sunrise/block-a', 1, 1);
  group(3, 'harbour');
  setLicense(1, { vn: 3, apps: 2, validity: 1, from: T0, until: T0 + 30 * DAY });
  setLicense(3, { restrictions: 0, vn: 0, apps: 0 });
  user(10, 'alice', 2, 1);
  user(11, 'bob', 1, 1, 1, 1);
  user(30, 'carol', 3, 3);
  // Interleaved creation across trees: ranks are per tree.
  number('1001', 10, 1);
  number('3001', 30, 3);
  number('1002', 11, 1);
  number('1003', 11, 1);
  number('1004', 10, 1);
  // Licensing order differs from insertion order; one install is kept unlicensed (refused).
  install('later', '1001', T0 + 2000);
  install('earlier', '1002', T0 + 1000);
  install('refused', '1004', null);
}

/** Every decision the policy can be asked about these numbers, to compare two snapshots. */
function decisions(snap: SnapshotIndex, now: number): Decision[] {
  const nums = ['1001', '1002', '1003', '1004', '1005', '3001', '3002', '9999'];
  const ids = [null, 'later', 'earlier', 'refused', 'new'];
  const out: Decision[] = [];
  for (const n of nums) {
    out.push(evaluateRegister({ identity: n, isDeregister: false, isMobileApp: false, installId: null }, snap, now));
    for (const id of ids) out.push(evaluateRegister({ identity: n, isDeregister: false, isMobileApp: true, installId: id }, snap, now));
    for (const c of nums) out.push(evaluateInvite({ identity: n, callee: c, isMobileApp: false, installId: null }, snap, now));
  }
  return out;
}

describe('loadSnapshot', () => {
  it('reads licences, users, numbers ranked by id, and licensed installs ranked by licensed_at', () => {
    seed();
    const snap = loadSnapshot(db);
    expect(snap.group(1)).toMatchObject({
      rootId: 1,
      name: 'sunrise',
      restrictions: true,
      virtualNumbers: 3,
      mobileApps: 2,
      validity: true,
      validFrom: T0,
      validUntil: T0 + 30 * DAY,
      appsUsed: 2,
      numbersUsed: 4,
    });
    expect(snap.group(3)).toMatchObject({ name: 'harbour', restrictions: false, validity: false, validFrom: null });
    expect(snap.group(2)).toBeUndefined(); // a sub-group has no Licences section
    expect(snap.user(10)).toMatchObject({ login: 'alice', rootId: 1, personalNumbers: null, numbersUsed: 2, appsUsed: 1 });
    expect(snap.user(11)).toMatchObject({ login: 'bob', personalNumbers: 1, personalApps: 1, numbersUsed: 2, appsUsed: 1 });
    expect(['1001', '1002', '1003', '1004', '3001'].map((n) => [snap.number(n)?.groupRank, snap.number(n)?.userRank])).toEqual([
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
      [0, 0],
    ]);
    expect(snap.install('earlier', '1002')).toMatchObject({ groupRank: 0, userRank: 0, userId: 11, rootId: 1 });
    expect(snap.install('later', '1001')).toMatchObject({ groupRank: 1, userRank: 0, userId: 10 });
    expect(snap.install('refused', '1004')).toBeUndefined();
    expect(snap.revisionOf(1)).toBe(readRevisions(db).get(1));
    expect(snap.stats()).toEqual({ groups: 2, users: 3, numbers: 5, installs: 2 });
  });

  it('agrees with the counters the triggers keep', () => {
    seed();
    const snap = loadSnapshot(db);
    const rows = db.prepare('SELECT group_id, numbers_used, apps_used FROM licenses').all() as { group_id: number; numbers_used: number; apps_used: number }[];
    for (const r of rows) expect(snap.group(r.group_id)).toMatchObject({ numbersUsed: r.numbers_used, appsUsed: r.apps_used });
  });

  it('decides from what it read', () => {
    seed();
    const snap = loadSnapshot(db);
    const now = T0 + DAY;
    const reg = (n: string) => evaluateRegister({ identity: n, isDeregister: false, isMobileApp: false, installId: null }, snap, now);
    expect(reg('1003')).toMatchObject({ kind: 'deny', reason: 'personal-license-exceeded' });
    expect(reg('1004')).toMatchObject({ kind: 'deny', reason: 'virtual-numbers-exceeded', details: { rank: 3, limit: 3, used: 4 } });
    expect(reg('1001')).toMatchObject({ kind: 'allow', basis: 'licensed' });
    expect(reg('3001')).toMatchObject({ kind: 'allow', basis: 'unrestricted' });
  });

  it('works on a read-only connection', () => {
    seed();
    const ro = openDatabase(join(dir, 'store.db'), { readonly: true });
    opened.push(ro);
    expect(decisions(loadSnapshot(ro), T0)).toEqual(decisions(loadSnapshot(db), T0));
  });
});

describe('revisions and partial reloads', () => {
  it('the triggers bump the revision of the changed tree only', () => {
    seed();
    const before = readRevisions(db);
    expect([...before.keys()].sort()).toEqual([1, 3]);
    number('1005', 10, 1);
    const after = readRevisions(db);
    expect(after.get(1)).toBeGreaterThan(before.get(1) as number);
    expect(after.get(3)).toBe(before.get(3));
    db.prepare('UPDATE licenses SET virtual_numbers = 2 WHERE group_id = 3').run();
    expect(readRevisions(db).get(3)).toBeGreaterThan(before.get(3) as number);
  });

  it('loadGroup returns one tree, or undefined when it is gone', () => {
    seed();
    const g = loadGroup(db, 1);
    expect(g?.license).toMatchObject({ rootId: 1, name: 'sunrise', revision: readRevisions(db).get(1) });
    expect([...(g?.numbers ?? [])].map((n) => n.number)).toEqual(['1001', '1002', '1003', '1004']);
    expect([...(g?.installs ?? [])].map((i) => i.instanceId)).toEqual(['earlier', 'later']);
    expect([...(g?.users ?? [])].map((u) => u.login).sort()).toEqual(['alice', 'bob']);
    expect(loadGroup(db, 2)).toBeUndefined();
    expect(loadGroup(db, 99)).toBeUndefined();
  });

  it('refreshSnapshot reloads only what changed and then decides like a full reload', () => {
    seed();
    const index = loadSnapshot(db);
    const untouched = index.group(3);
    expect(refreshSnapshot(db, index)).toEqual({ changed: [], removed: [] });

    // Changes the CLI could make: lower a limit, remove the oldest number, license a new install,
    // release one, lift bob's personal cap, and add a third project.
    db.prepare('UPDATE licenses SET mobile_apps = 1 WHERE group_id = 1').run();
    db.prepare("DELETE FROM numbers WHERE number = '1001'").run();
    number('1005', 11, 1);
    install('new', '1005', T0 + 3000);
    db.prepare("UPDATE app_installs SET licensed = 0 WHERE instance_id = 'earlier'").run();
    db.prepare('UPDATE users SET personal_numbers = NULL WHERE id = 11').run();
    group(4, 'meadow');
    setLicense(4, { vn: 1, apps: 1 });
    user(40, 'dan', 4, 4);
    number('4001', 40, 4);

    expect(refreshSnapshot(db, index)).toEqual({ changed: [1, 4], removed: [] });
    expect(index.group(3)).toBe(untouched); // harbour was not reloaded
    for (const now of [T0 - 1, T0, T0 + DAY, T0 + 30 * DAY]) expect(decisions(index, now)).toEqual(decisions(loadSnapshot(db), now));
    expect(index.number('1001')).toBeUndefined();
    expect(index.number('1002')?.groupRank).toBe(0);
    expect(index.install('new', '1005')).toMatchObject({ groupRank: 0 });
    expect(index.stats()).toEqual(loadSnapshot(db).stats());
  });

  it('refreshSnapshot drops a project that was deleted', () => {
    seed();
    const index = loadSnapshot(db);
    db.prepare('DELETE FROM numbers WHERE root_id = 3').run();
    db.prepare('DELETE FROM users WHERE root_id = 3').run();
    db.prepare('DELETE FROM licenses WHERE group_id = 3').run();
    db.prepare('DELETE FROM groups WHERE id = 3').run();
    expect(refreshSnapshot(db, index)).toEqual({ changed: [], removed: [3] });
    expect(index.number('3001')).toBeUndefined();
    expect(index.group(3)).toBeUndefined();
    expect(decisions(index, T0)).toEqual(decisions(loadSnapshot(db), T0));
  });
});

describe('loadSnapshotFor (sipwarden check)', () => {
  it('loads only the trees of the numbers asked about and decides for them like a full load', () => {
    seed();
    const full = loadSnapshot(db);
    const some = loadSnapshotFor(db, ['1003', '9999', '1001']);
    expect([...some.rootIds()]).toEqual([1]);
    expect(some.number('3001')).toBeUndefined();
    for (const now of [T0 - 1, T0 + DAY, T0 + 30 * DAY]) {
      for (const n of ['1001', '1002', '1003', '1004', '9999']) {
        const facts = { identity: n, isDeregister: false, isMobileApp: false, installId: null };
        expect(evaluateRegister(facts, some, now)).toEqual(evaluateRegister(facts, full, now));
      }
      const call = { identity: '1002', callee: '3001', isMobileApp: false, installId: null };
      expect(evaluateInvite(call, loadSnapshotFor(db, ['1002', '3001']), now)).toEqual(evaluateInvite(call, full, now));
    }
  });
});
