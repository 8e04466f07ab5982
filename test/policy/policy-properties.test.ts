import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import type { PolicyOptions } from '../../src/policy/request-facts.js';
import type { GroupRecords } from '../../src/policy/snapshot-records.js';
import { app, invite, license, register, snapshotOf, T0, type GroupSpec } from './fixtures.js';
import { WORLD } from './world.js';

const options: fc.Arbitrary<PolicyOptions> = fc.record({
  unknownNumbers: fc.constantFrom('allow', 'reject'),
  registerOutsideWindow: fc.constantFrom('reject', 'allow-sip-devices'),
  checkCalleeWindow: fc.boolean(),
});
const nows = fc.integer({ min: -100, max: 100 }).map((d) => T0 + d * 86_400_000);

/** A tree in a model: numbers in creation order, installs in licensing order. */
interface ModelTree {
  rootId: number;
  virtualNumbers: number;
  mobileApps: number;
  personal: (number | null)[]; // per user index: personal cap (numbers or apps, depending on the model)
  numbers: { number: string; user: number }[];
  installs: { id: string; number: string; user: number }[];
}

const userId = (t: ModelTree, user: number) => t.rootId * 10 + user;

function spec(t: ModelTree, personalKind: 'numbers' | 'apps'): GroupSpec {
  return {
    rootId: t.rootId,
    virtualNumbers: t.virtualNumbers,
    mobileApps: t.mobileApps,
    users: t.personal.map((cap, u) =>
      personalKind === 'numbers' ? { userId: userId(t, u), personalNumbers: cap } : { userId: userId(t, u), personalApps: cap },
    ),
    numbers: t.numbers.map((n) => [n.number, userId(t, n.user)] as const),
    installs: t.installs.map((i) => [i.id, i.number, userId(t, i.user)] as const),
  };
}

function recordsOf(s: GroupSpec): GroupRecords {
  return {
    license: license(s),
    users: (s.users ?? []).map((u) => ({ userId: u.userId, login: 'x', rootId: s.rootId, personalNumbers: u.personalNumbers ?? null, personalApps: u.personalApps ?? null })),
    numbers: (s.numbers ?? []).map(([number, uid]) => ({ number, userId: uid, rootId: s.rootId })),
    installs: (s.installs ?? []).map(([instanceId, number, uid]) => ({ instanceId, number, userId: uid, rootId: s.rootId })),
  };
}

/** Digit strings (with and without leading zeros) and other strings take different table paths. */
const numberName = (k: number): string => [`${100 + k}`, `0${k}`, `door-${k}`][k % 3] as string;

type NumberCommand =
  | { type: 'add'; tree: number; user: number }
  | { type: 'remove'; tree: number; at: number }
  | { type: 'limit'; tree: number; value: number }
  | { type: 'personal'; tree: number; user: number; value: number | null };

const numberCommand: fc.Arbitrary<NumberCommand> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('add' as const), tree: fc.nat(1), user: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('remove' as const), tree: fc.nat(1), at: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('limit' as const), tree: fc.nat(1), value: fc.nat(8) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('personal' as const),
      tree: fc.nat(1),
      user: fc.nat(1),
      value: fc.option(fc.nat(4), { nil: null }),
    }),
  },
);

describe('policy properties', () => {
  it('the numbers a tree allows are the first `limit` by creation order, within personal caps, never more than the limit', () => {
    fc.assert(
      fc.property(fc.array(numberCommand, { maxLength: 40 }), fc.boolean(), (commands, usePersonal) => {
        const trees: ModelTree[] = [1, 2].map((rootId) => ({
          rootId,
          virtualNumbers: 3,
          mobileApps: 0,
          personal: [null, null],
          numbers: [],
          installs: [],
        }));
        let serial = 0;
        const index = snapshotOf(trees.map((t) => spec(t, 'numbers')));
        for (const c of commands) {
          const t = trees[c.tree] as ModelTree;
          if (c.type === 'add') t.numbers.push({ number: numberName(serial++), user: c.user });
          else if (c.type === 'remove') t.numbers.splice(c.at % Math.max(1, t.numbers.length), 1);
          else if (c.type === 'limit') t.virtualNumbers = c.value;
          else if (usePersonal) t.personal[c.user] = c.value;
          // The daemon's way: reload only the tree that changed.
          index.replaceGroup(t.rootId, recordsOf(spec(t, 'numbers')));

          const full = snapshotOf(trees.map((x) => spec(x, 'numbers')));
          for (const x of trees) {
            const allowed = x.numbers.filter((n) => evaluateRegister(register(n.number), full, T0).kind === 'allow');
            const expected = x.numbers.filter((n, i) => {
              const cap = x.personal[n.user] ?? null;
              const userPos = x.numbers.slice(0, i).filter((m) => m.user === n.user).length;
              return i < x.virtualNumbers && (cap === null || userPos < cap);
            });
            expect(allowed).toEqual(expected);
            expect(allowed.length).toBeLessThanOrEqual(x.virtualNumbers);
            if (!usePersonal) expect(allowed).toEqual(x.numbers.slice(0, x.virtualNumbers));
            // INVITE from these numbers is decided the same way, and the incremental index agrees.
            for (const n of x.numbers) {
              const d = evaluateRegister(register(n.number), index, T0);
              expect(d).toEqual(evaluateRegister(register(n.number), full, T0));
              expect(evaluateInvite(invite(n.number, null), full, T0).kind).toBe(d.kind);
            }
          }
        }
      }),
    );
  });

  it('mobile-app installs allowed never exceed mobileApps (nor a personal app cap)', () => {
    type AppCommand =
      | { type: 'register'; number: number; install: number; noId: boolean }
      | { type: 'release'; at: number }
      | { type: 'limit'; value: number }
      | { type: 'personal'; user: number; value: number | null };
    const command: fc.Arbitrary<AppCommand> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ type: fc.constant('register' as const), number: fc.nat(5), install: fc.nat(5), noId: fc.boolean() }),
      },
      { weight: 1, arbitrary: fc.record({ type: fc.constant('release' as const), at: fc.nat(10) }) },
      { weight: 2, arbitrary: fc.record({ type: fc.constant('limit' as const), value: fc.nat(6) }) },
      {
        weight: 1,
        arbitrary: fc.record({ type: fc.constant('personal' as const), user: fc.nat(1), value: fc.option(fc.nat(3), { nil: null }) }),
      },
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 50 }), (commands) => {
        const t: ModelTree = {
          rootId: 1,
          virtualNumbers: 6,
          mobileApps: 3,
          personal: [null, null],
          numbers: [0, 1, 2, 3, 4, 5].map((k) => ({ number: `${100 + k}`, user: k % 2 })),
          installs: [],
        };
        const index = snapshotOf([spec(t, 'apps')]);
        const reload = () => index.replaceGroup(1, recordsOf(spec(t, 'apps')));
        for (const c of commands) {
          if (c.type === 'register') {
            const n = t.numbers[c.number] as ModelTree['numbers'][number];
            const id = c.noId ? null : `inst${c.install}`;
            const d = evaluateRegister(app(n.number, id), index, T0);
            // The store takes the license the decision asks for (sequentially, so no race here).
            if (d.kind === 'allow' && d.claimInstall) {
              t.installs.push({ id: id ?? n.number, number: n.number, user: n.user });
              reload();
            }
          } else if (c.type === 'release') {
            t.installs.splice(c.at % Math.max(1, t.installs.length), 1);
            reload();
          } else if (c.type === 'limit') {
            t.mobileApps = c.value;
            reload();
          } else {
            t.personal[c.user] = c.value;
            reload();
          }
          const working = t.installs.filter((i) => evaluateRegister(app(i.number, i.id), index, T0).kind === 'allow');
          expect(working.length).toBeLessThanOrEqual(t.mobileApps);
          for (const u of [0, 1]) {
            const cap = t.personal[u] ?? null;
            if (cap !== null) expect(working.filter((i) => i.user === u).length).toBeLessThanOrEqual(cap);
          }
          // The working ones are the oldest licensed ones.
          expect(working).toEqual(
            t.installs.filter((i, k) => {
              const cap = t.personal[i.user] ?? null;
              const userPos = t.installs.slice(0, k).filter((j) => j.user === i.user).length;
              return k < t.mobileApps && (cap === null || userPos < cap);
            }),
          );
        }
      }),
    );
  });

  const identities = fc.constantFrom<string | null>(null, '1001', '2001', '2004', '3003', '4002', '5001', '6001', '8002', '9999');
  const installIds = fc.constantFrom<string | null>(null, 'a1', 'b1', 'f2', 'g1', 'o1', 'p1', 'zz');

  it('a de-REGISTER is always allowed, and never claims a license', () => {
    fc.assert(
      fc.property(identities, fc.boolean(), installIds, nows, options, (identity, isMobileApp, installId, now, opts) => {
        const d = evaluateRegister({ identity, isDeregister: true, isMobileApp, installId }, WORLD, now, opts);
        expect(d).toMatchObject({ kind: 'allow', basis: 'deregister', claimInstall: false });
      }),
    );
  });

  it('a tree with restrictions off always allows, whatever its limits and window', () => {
    const openTree = fc.record({
      virtualNumbers: fc.nat(3),
      mobileApps: fc.nat(3),
      validity: fc.boolean(),
      validFrom: fc.option(nows, { nil: null }),
      validUntil: fc.option(nows, { nil: null }),
    });
    fc.assert(
      fc.property(openTree, fc.boolean(), installIds, nows, options, (tree, isMobileApp, installId, now, opts) => {
        const snap = snapshotOf([
          {
            rootId: 1,
            restrictions: false,
            ...tree,
            users: [{ userId: 1, personalNumbers: 0, personalApps: 0 }],
            numbers: [['100', 1], ['101', 1], ['102', 1], ['103', 1], ['104', 1]],
            installs: [['a1', '100', 1], ['a2', '101', 1], ['a3', '102', 1], ['a4', '103', 1]],
          },
        ]);
        for (const n of ['100', '101', '102', '103', '104']) {
          const r = evaluateRegister({ identity: n, isDeregister: false, isMobileApp, installId }, snap, now, opts);
          expect(r).toMatchObject({ kind: 'allow', basis: 'unrestricted' });
          const i = evaluateInvite(invite(n, '104', { isMobileApp, installId }), snap, now, opts);
          expect(i).toMatchObject({ kind: 'allow', basis: 'unrestricted' });
        }
      }),
    );
  });
});
