import { describe, expect, it } from 'vitest';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import type { PolicyOptions } from '../../src/policy/request-facts.js';
import type { LicenseSnapshot } from '../../src/policy/snapshot.js';
import { app, invite, register } from './fixtures.js';
import { FROM, NOW, UNTIL, WORLD } from './world.js';

/** WORLD seen through a snapshot that does not link entries: the policy must look them up. */
const UNLINKED: LicenseSnapshot = {
  number(n) {
    const e = WORLD.number(n);
    return e && { number: e.number, userId: e.userId, rootId: e.rootId, groupRank: e.groupRank, userRank: e.userRank };
  },
  group: (id) => WORLD.group(id),
  user: (id) => WORLD.user(id),
  install: (i, n) => WORLD.install(i, n),
  installBy: (kind, value, n) => WORLD.installBy(kind, value, n),
};

describe('a snapshot without links', () => {
  it('gets the same decisions as the linked index', () => {
    const numbers = [null, '1001', '2001', '2002', '2003', '2004', '3002', '3003', '4002', '4003', '4004', '5001', '6001', '8002', '9999'];
    const installs = [null, 'a1', 'b1', 'd1', 'f2', 'g1', 'new'];
    const options: PolicyOptions[] = [
      { unknownNumbers: 'allow', registerOutsideWindow: 'reject', checkCalleeWindow: true },
      { unknownNumbers: 'reject', registerOutsideWindow: 'allow-sip-devices', checkCalleeWindow: false },
    ];
    for (const now of [FROM - 1, NOW, UNTIL])
      for (const o of options)
        for (const n of numbers) {
          expect(evaluateRegister(register(n), UNLINKED, now, o)).toEqual(evaluateRegister(register(n), WORLD, now, o));
          for (const i of installs) {
            expect(evaluateRegister(app(n, i), UNLINKED, now, o)).toEqual(evaluateRegister(app(n, i), WORLD, now, o));
            const f = invite(n, '6001', { isMobileApp: i !== null, installId: i });
            expect(evaluateInvite(f, UNLINKED, now, o)).toEqual(evaluateInvite(f, WORLD, now, o));
          }
        }
  });
});
