import { describe, expect, it } from 'vitest';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import { SnapshotBuilder, SnapshotIndex, buildSnapshot } from '../../src/policy/snapshot-builder.js';
import type { GroupRecords } from '../../src/policy/snapshot-records.js';
import { app, license, register, snapshotOf, T0, type GroupSpec } from './fixtures.js';

/** The records of one tree as the loader would give them. */
function records(spec: GroupSpec): GroupRecords {
  const all = {
    users: (spec.users ?? []).map((u) => ({
      userId: u.userId,
      login: `user-${u.userId}`,
      rootId: spec.rootId,
      personalNumbers: u.personalNumbers ?? null,
      personalApps: u.personalApps ?? null,
    })),
    numbers: (spec.numbers ?? []).map(([number, userId]) => ({ number, userId, rootId: spec.rootId })),
    installs: (spec.installs ?? []).map(([instanceId, number, userId]) => ({ instanceId, number, userId, rootId: spec.rootId })),
  };
  return { license: license(spec), ...all };
}

describe('buildSnapshot', () => {
  // Numbers of two trees interleaved in creation order, as `ORDER BY id` gives them.
  const snap = buildSnapshot({
    licenses: [license({ rootId: 1, name: 'a' }), license({ rootId: 2, name: 'b', revision: 7 })],
    users: [
      { userId: 11, login: 'u11', rootId: 1, personalNumbers: null, personalApps: null },
      { userId: 12, login: 'u12', rootId: 1, personalNumbers: 2, personalApps: 1 },
      { userId: 21, login: 'u21', rootId: 2, personalNumbers: null, personalApps: null },
    ],
    numbers: [
      { number: '100', userId: 11, rootId: 1 },
      { number: '200', userId: 21, rootId: 2 },
      { number: '101', userId: 12, rootId: 1 },
      { number: '102', userId: 11, rootId: 1 },
      { number: '201', userId: 21, rootId: 2 },
      { number: '103', userId: 12, rootId: 1 },
    ],
    installs: [
      { instanceId: 'i1', number: '102', userId: 11, rootId: 1 },
      { instanceId: 'i2', number: '200', userId: 21, rootId: 2 },
      { instanceId: 'i1', number: '100', userId: 11, rootId: 1 },
      { instanceId: 'i3', number: '101', userId: 12, rootId: 1 },
    ],
  });

  it('ranks numbers by creation order within their tree and their user', () => {
    const ranks = ['100', '101', '102', '103', '200', '201'].map((n) => {
      const e = snap.number(n);
      return [n, e?.rootId, e?.groupRank, e?.userRank];
    });
    expect(ranks).toEqual([
      ['100', 1, 0, 0],
      ['101', 1, 1, 0],
      ['102', 1, 2, 1],
      ['103', 1, 3, 1],
      ['200', 2, 0, 0],
      ['201', 2, 1, 1],
    ]);
  });

  it('ranks installs by licensing order and keys them by instance and number', () => {
    expect(snap.install('i1', '102')).toMatchObject({ groupRank: 0, userRank: 0, rootId: 1, userId: 11 });
    expect(snap.install('i1', '100')).toMatchObject({ groupRank: 1, userRank: 1 });
    expect(snap.install('i3', '101')).toMatchObject({ groupRank: 2, userRank: 0, userId: 12 });
    expect(snap.install('i2', '200')).toMatchObject({ groupRank: 0, userRank: 0, rootId: 2 });
    expect(snap.install('i1', '101')).toBeUndefined();
    expect(snap.install('nope', '100')).toBeUndefined();
  });

  it('counts what is used per tree and per user', () => {
    expect(snap.group(1)).toMatchObject({ name: 'a', appsUsed: 3, numbersUsed: 4 });
    expect(snap.group(2)).toMatchObject({ name: 'b', appsUsed: 1, numbersUsed: 2 });
    expect(snap.user(11)).toMatchObject({ appsUsed: 2, numbersUsed: 2, rootId: 1 });
    expect(snap.user(12)).toMatchObject({ appsUsed: 1, numbersUsed: 2, personalNumbers: 2, personalApps: 1 });
    expect(snap.stats()).toEqual({ groups: 2, users: 3, numbers: 6, installs: 4 });
    expect(snap.revisionOf(2)).toBe(7);
    expect([...snap.rootIds()].sort()).toEqual([1, 2]);
  });

  it('answers undefined for what it does not have', () => {
    expect(snap.number('999')).toBeUndefined();
    expect(snap.group(3)).toBeUndefined();
    expect(snap.user(99)).toBeUndefined();
    expect(snap.revisionOf(3)).toBeUndefined();
  });

  it('keeps numbers of a tree without a Licences section, which the policy treats as unprovisioned', () => {
    const s = buildSnapshot({
      licenses: [],
      users: [],
      numbers: [{ number: '500', userId: 5, rootId: 5 }],
      installs: [],
    });
    expect(s.number('500')).toMatchObject({ groupRank: 0, userRank: 0 });
    expect(s.group(5)).toBeUndefined();
    expect(evaluateRegister(register('500'), s, T0)).toMatchObject({ kind: 'allow', basis: 'unprovisioned' });
    expect(evaluateRegister(register('500'), s, T0, { unknownNumbers: 'reject', registerOutsideWindow: 'reject', checkCalleeWindow: true }))
      .toMatchObject({ kind: 'deny', reason: 'unknown-number' });
  });
});

describe('number entries', () => {
  const index = snapshotOf([
    {
      rootId: 1,
      users: [{ userId: 1 }, { userId: 2, personalNumbers: 3 }, { userId: 3, personalApps: 0 }],
      numbers: [['100', 1], ['0100', 2], ['door-3', 3], ['+4930', 9]],
    },
  ]);

  it('link their licence, and their user only when it has a personal license', () => {
    for (const n of ['100', '0100', 'door-3', '+4930']) expect(index.number(n)?.group).toBe(index.group(1));
    expect(index.number('100')?.user).toBeNull();
    expect(index.number('0100')?.user).toBe(index.user(2));
    expect(index.number('door-3')?.user).toBe(index.user(3));
    // User 9 is not in the snapshot: not linked, the policy looks it up (and finds none).
    expect(index.number('+4930')?.user).toBeUndefined();
  });

  it('carry the number asked for', () => {
    expect(['100', '0100', 'door-3'].map((n) => index.number(n)?.number)).toEqual(['100', '0100', 'door-3']);
    expect(index.number('00100')).toBeUndefined();
  });

  it('are removed with their tree, digit strings or not', () => {
    const other = snapshotOf([{ rootId: 1, numbers: [['100', 1], ['door-3', 1]] }, { rootId: 2, numbers: [['200', 2]] }]);
    other.removeGroup(1);
    expect(other.number('100')).toBeUndefined();
    expect(other.number('door-3')).toBeUndefined();
    expect(other.number('200')).toBeDefined();
  });
});

describe('SnapshotBuilder', () => {
  const lic = license({ rootId: 1 });
  const user = { userId: 1, login: 'u', rootId: 1, personalNumbers: null, personalApps: null };
  const num = { number: '1', userId: 1, rootId: 1 };
  const inst = { instanceId: 'i', number: '1', userId: 1, rootId: 1 };

  it('refuses records out of rank order', () => {
    const b = new SnapshotBuilder();
    b.addLicense(lic);
    b.addNumber(num);
    expect(() => b.addUser(user)).toThrow(/out of order/);
    b.addInstall(inst);
    expect(() => b.addNumber({ ...num, number: '2' })).toThrow(/out of order/);
  });

  it('cannot be used after build', () => {
    const b = new SnapshotBuilder();
    b.addLicense(lic);
    expect(b.build().group(1)).toBeDefined();
    expect(() => b.build()).toThrow(/already built/);
    expect(() => b.addLicense(lic)).toThrow(/already built/);
  });

  it('copies records, so a reader can reuse one object per row', () => {
    const b = new SnapshotBuilder();
    b.addLicense(lic);
    b.addUser(user);
    const row = { number: '', userId: 1, rootId: 1 };
    for (const n of ['1', '2', '3']) {
      row.number = n;
      b.addNumber(row);
    }
    const s = b.build();
    expect(['1', '2', '3'].map((n) => s.number(n)?.groupRank)).toEqual([0, 1, 2]);
  });
});

describe('SnapshotIndex.replaceGroup / removeGroup', () => {
  const A: GroupSpec = {
    rootId: 1,
    name: 'a',
    revision: 1,
    virtualNumbers: 2,
    users: [{ userId: 1 }],
    numbers: [['100', 1], ['101', 1], ['102', 1]],
    installs: [['i', '100', 1]],
  };
  const B: GroupSpec = { rootId: 2, name: 'b', revision: 1, users: [{ userId: 2 }], numbers: [['200', 2]] };

  it('replaces one tree and leaves the others as they were', () => {
    const index = snapshotOf([A, B]);
    const b200 = index.number('200');
    const groupB = index.group(2);
    // '100' removed: the others move up in rank, and '102' comes within the limit of 2.
    index.replaceGroup(1, records({ ...A, revision: 2, numbers: [['101', 1], ['102', 1]], installs: [] }));
    expect(index.number('100')).toBeUndefined();
    expect(index.number('101')?.groupRank).toBe(0);
    expect(index.number('102')?.groupRank).toBe(1);
    expect(index.install('i', '100')).toBeUndefined();
    expect(index.group(1)).toMatchObject({ appsUsed: 0, numbersUsed: 2 });
    expect(index.revisionOf(1)).toBe(2);
    expect(index.number('200')).toEqual(b200);
    expect(index.group(2)).toBe(groupB); // the other tree was not rebuilt
    expect(evaluateRegister(register('102'), index, T0)).toMatchObject({ kind: 'allow', basis: 'licensed' });
  });

  it('gives the same entries as a full build of the new state', () => {
    const next: GroupSpec = { ...A, virtualNumbers: 1, numbers: [['102', 1], ['103', 1]], installs: [['j', '103', 1]] };
    const index = snapshotOf([A, B]);
    index.replaceGroup(1, records(next));
    const full = snapshotOf([next, B]);
    for (const n of ['100', '101', '102', '103', '200']) expect(index.number(n)).toEqual(full.number(n));
    expect(index.group(1)).toEqual(full.group(1));
    expect(index.user(1)).toEqual(full.user(1));
    expect(index.install('j', '103')).toEqual(full.install('j', '103'));
    expect(index.stats()).toEqual(full.stats());
  });

  it('removes a tree', () => {
    const index = snapshotOf([A, B]);
    expect(index.removeGroup(1)).toBe(true);
    expect(index.removeGroup(1)).toBe(false);
    expect(index.number('100')).toBeUndefined();
    expect(index.group(1)).toBeUndefined();
    expect(index.user(1)).toBeUndefined();
    expect(index.install('i', '100')).toBeUndefined();
    expect(index.stats()).toEqual({ groups: 1, users: 1, numbers: 1, installs: 0 });
  });

  it('fills an empty index tree by tree', () => {
    const index = new SnapshotIndex();
    index.replaceGroup(1, records(A));
    index.replaceGroup(2, records(B));
    expect(index.stats()).toEqual(snapshotOf([A, B]).stats());
  });

  it('keeps a number that moved to another tree, whichever tree is reloaded first', () => {
    const movedB: GroupSpec = { ...B, numbers: [['200', 2], ['102', 2]] };
    const movedA: GroupSpec = { ...A, numbers: [['100', 1], ['101', 1]] };
    for (const order of [[movedA, movedB], [movedB, movedA]]) {
      const index = snapshotOf([A, B]);
      for (const spec of order) index.replaceGroup(spec.rootId, records(spec));
      expect(index.number('102')).toMatchObject({ rootId: 2, groupRank: 1 });
      expect(index.number('101')).toMatchObject({ rootId: 1, groupRank: 1 });
    }
  });

  it('keeps an install of an instance on other numbers when one tree goes', () => {
    const index = snapshotOf([A, { ...B, installs: [['i', '200', 2]] }]);
    index.removeGroup(1);
    expect(index.install('i', '100')).toBeUndefined();
    expect(index.install('i', '200')).toMatchObject({ rootId: 2 });
  });

  it('does not count on a user that belongs to another tree', () => {
    // User 2 is in tree B; a number of tree A that names it (inconsistent data) is ranked apart.
    const index = snapshotOf([A, B]);
    index.replaceGroup(1, records({ ...A, numbers: [['100', 1], ['150', 2]] }));
    expect(index.number('150')).toMatchObject({ rootId: 1, groupRank: 1, userRank: 0 });
    expect(index.user(2)).toMatchObject({ rootId: 2, numbersUsed: 1 });
  });

  it('tells which trees are stale from the store revisions', () => {
    const index = snapshotOf([A, B]);
    expect(index.staleGroups(new Map([[1, 1], [2, 1]]))).toEqual({ changed: [], removed: [] });
    expect(index.staleGroups(new Map([[1, 2], [3, 0]]))).toEqual({ changed: [1, 3], removed: [2] });
  });
});

describe('SnapshotIndex.applyClaim', () => {
  const A: GroupSpec = {
    rootId: 1,
    name: 'a',
    revision: 4,
    mobileApps: 5,
    users: [{ userId: 1, personalApps: 2 }, { userId: 2 }],
    numbers: [['100', 1], ['101', 1], ['102', 2]],
    installs: [['i', '100', 1]],
  };
  const B: GroupSpec = { rootId: 2, name: 'b', revision: 1, users: [{ userId: 3 }], numbers: [['200', 3]] };

  it('appends committed claims as a full build of the new state ranks and counts them', () => {
    const index = snapshotOf([A, B]);
    expect(index.applyClaim({ instanceId: 'j', number: '101', userId: 1, rootId: 1 }, 4, 5)).toBe(true);
    expect(index.applyClaim({ instanceId: 'k', number: '102', userId: 2, rootId: 1 }, 5, 6)).toBe(true);
    const next: GroupSpec = { ...A, revision: 6, installs: [['i', '100', 1], ['j', '101', 1], ['k', '102', 2]] };
    const full = snapshotOf([next, B]);
    for (const [id, n] of [['i', '100'], ['j', '101'], ['k', '102']] as const) expect(index.install(id, n)).toEqual(full.install(id, n));
    expect(index.group(1)).toEqual(full.group(1));
    expect(index.user(1)).toEqual(full.user(1));
    expect(index.user(2)).toEqual(full.user(2));
    expect(index.stats()).toEqual(full.stats());
    expect(index.revisionOf(1)).toBe(6);
    // The policy sees the used counts move at once: user 1's personal licence (2) is now used up.
    expect(evaluateRegister(app('101', 'other'), index, T0)).toMatchObject({ kind: 'deny', reason: 'personal-license-exceeded' });
  });

  it('leaves the tree stale when something else changed it in between', () => {
    const index = snapshotOf([A, B]);
    expect(index.applyClaim({ instanceId: 'j', number: '101', userId: 1, rootId: 1 }, 7, 8)).toBe(true);
    expect(index.install('j', '101')).toMatchObject({ groupRank: 1 });
    expect(index.revisionOf(1)).toBe(4);
    expect(index.staleGroups(new Map([[1, 8], [2, 1]])).changed).toEqual([1]);
  });

  it('ignores an install already there and a tree the index does not have', () => {
    const index = snapshotOf([A, B]);
    expect(index.applyClaim({ instanceId: 'i', number: '100', userId: 1, rootId: 1 }, 4, 5)).toBe(false);
    expect(index.applyClaim({ instanceId: 'x', number: '900', userId: 9, rootId: 9 }, 0, 1)).toBe(false);
    expect(index.group(1)).toMatchObject({ appsUsed: 1 });
    expect(index.revisionOf(1)).toBe(4);
  });
});
