import { describe, expect, it } from 'vitest';
import type { AllowBasis, Decision, DecisionDetails } from '../../src/policy/decision.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import { REASON_CODES, type ReasonCode } from '../../src/policy/reason-code.js';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions, type RegisterFacts } from '../../src/policy/request-facts.js';
import { app, register } from './fixtures.js';
import { FROM, NOW, UNTIL, WORLD } from './world.js';

type Expected =
  | { kind: 'allow'; basis: AllowBasis; claimInstall?: boolean; details?: DecisionDetails }
  | { kind: 'deny'; reason: ReasonCode; details?: DecisionDetails };

interface Case {
  readonly name: string;
  readonly facts: RegisterFacts;
  readonly now?: number;
  readonly options?: Partial<PolicyOptions>;
  readonly expected: Expected;
}

const strict = { unknownNumbers: 'reject' } as const;
const keepDevices = { registerOutsideWindow: 'allow-sip-devices' } as const;

const CASES: readonly Case[] = [
  // de-REGISTER: always passed on (RFC 3261 §10.2.2), whatever the licence says.
  { name: 'de-REGISTER of a number over the limit', facts: register('2004', { isDeregister: true }), expected: { kind: 'allow', basis: 'deregister', claimInstall: false } },
  { name: 'de-REGISTER of an expired number (its project named)', facts: register('6001', { isDeregister: true }), expected: { kind: 'allow', basis: 'deregister', details: { number: '6001', group: 'past' } } },
  { name: 'de-REGISTER of an unknown number in strict mode', facts: register('9999', { isDeregister: true }), options: strict, expected: { kind: 'allow', basis: 'deregister' } },
  { name: 'de-REGISTER of an app without a license', facts: app('2001', 'new', { isDeregister: true }), expected: { kind: 'allow', basis: 'deregister', claimInstall: false } },

  // Every identity the request carries (DESIGN.md §2; issue 7, hole 4).
  { name: 'digest user naming the AoR itself', facts: register('2001', { credentials: ['2001'] }), expected: { kind: 'allow', basis: 'licensed', details: { number: '2001' } } },
  { name: 'unrestricted digest user, expired AoR', facts: register('6001', { credentials: ['1001'] }), expected: { kind: 'deny', reason: 'ambiguous-identity', details: { number: '6001', group: 'past' } } },
  { name: 'expired digest user, unrestricted AoR', facts: register('1001', { credentials: ['6001'] }), expected: { kind: 'deny', reason: 'ambiguous-identity', details: { number: '1001', group: 'past' } } },
  { name: 'two licensed numbers of one project disagree', facts: register('2001', { credentials: ['2002'] }), expected: { kind: 'deny', reason: 'ambiguous-identity' } },
  { name: 'digest user of a restricted project, AoR without a user', facts: register(null, { credentials: ['2001'] }), expected: { kind: 'deny', reason: 'ambiguous-identity' } },
  { name: 'unknown digest user, unrestricted AoR: passes by default', facts: register('1001', { credentials: ['9999'] }), expected: { kind: 'allow', basis: 'unrestricted' } },
  { name: 'unknown digest user, unrestricted AoR: refused in strict mode', facts: register('1001', { credentials: ['9999'] }), options: strict, expected: { kind: 'deny', reason: 'unknown-number', details: { number: '9999' } } },
  { name: 'unreadable identity', facts: register(null, { unreadable: 'the To user part' }), expected: { kind: 'deny', reason: 'ambiguous-identity', details: { problem: 'the To user part cannot be read unambiguously' } } },
  { name: 'de-REGISTER with an unreadable identity still passes', facts: register(null, { unreadable: 'a digest username', isDeregister: true }), expected: { kind: 'allow', basis: 'deregister' } },

  // Unknown numbers.
  { name: 'unknown number passes by default', facts: register('9999'), expected: { kind: 'allow', basis: 'unprovisioned', claimInstall: false, details: { number: '9999' } } },
  { name: 'unknown number refused in strict mode', facts: register('9999'), options: strict, expected: { kind: 'deny', reason: 'unknown-number', details: { number: '9999' } } },
  { name: 'no identity passes by default', facts: register(null), expected: { kind: 'allow', basis: 'unprovisioned' } },
  { name: 'no identity refused in strict mode', facts: register(null), options: strict, expected: { kind: 'deny', reason: 'unknown-number' } },
  { name: 'unknown app passes without a claim', facts: app('9999', 'x'), expected: { kind: 'allow', basis: 'unprovisioned', claimInstall: false } },

  // Restrictions off.
  { name: 'unrestricted SIP device (limit 0, window past)', facts: register('1001'), expected: { kind: 'allow', basis: 'unrestricted', claimInstall: false, details: { number: '1001', rootId: 1, group: 'open' } } },
  { name: 'unrestricted app already recorded', facts: app('1001', 'o1'), expected: { kind: 'allow', basis: 'unrestricted', claimInstall: false } },
  { name: 'unrestricted new app install is recorded', facts: app('1001', 'o2'), expected: { kind: 'allow', basis: 'unrestricted', claimInstall: true } },

  // Licensed numbers and the window.
  { name: 'licensed number inside the window', facts: register('2001'), expected: { kind: 'allow', basis: 'licensed', claimInstall: false, details: { number: '2001', rootId: 2, group: 'sunrise' } } },
  { name: 'now == validFrom is inside', facts: register('2001'), now: FROM, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'now == validUntil - 1 is inside', facts: register('2001'), now: UNTIL - 1, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'now == validFrom - 1 is not yet valid', facts: register('2001'), now: FROM - 1, expected: { kind: 'deny', reason: 'license-not-yet-valid', details: { number: '2001', group: 'sunrise', validFrom: FROM, validUntil: UNTIL, scope: 'group' } } },
  { name: 'now == validUntil is expired', facts: register('2001'), now: UNTIL, expected: { kind: 'deny', reason: 'license-expired', details: { number: '2001', rootId: 2, validFrom: FROM, validUntil: UNTIL } } },
  { name: 'open-ended from: not yet valid', facts: register('5001'), expected: { kind: 'deny', reason: 'license-not-yet-valid', details: { validFrom: UNTIL, validUntil: null } } },
  { name: 'open-ended from: valid at validFrom', facts: register('5001'), now: UNTIL, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'open-ended until: expired', facts: register('6001'), expected: { kind: 'deny', reason: 'license-expired', details: { validFrom: null, validUntil: FROM } } },
  { name: 'both bounds open: always valid', facts: register('7001'), now: 0, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'validity off ignores the bounds', facts: register('3001'), now: 0, expected: { kind: 'allow', basis: 'licensed' } },

  // Outside the window with SIP devices kept.
  { name: 'expired SIP device kept registered', facts: register('6001'), options: keepDevices, expected: { kind: 'allow', basis: 'window-closed-device-kept', claimInstall: false, details: { number: '6001', group: 'past' } } },
  { name: 'not-yet-valid SIP device kept registered', facts: register('5001'), options: keepDevices, expected: { kind: 'allow', basis: 'window-closed-device-kept' } },
  { name: 'expired app is always refused', facts: app('6001', 'p1'), options: keepDevices, expected: { kind: 'deny', reason: 'license-expired' } },
  { name: 'app without install id is refused too', facts: app('6001', null), options: keepDevices, expected: { kind: 'deny', reason: 'license-expired' } },
  { name: 'kept device beyond the limit is still refused', facts: register('8002'), options: keepDevices, expected: { kind: 'deny', reason: 'virtual-numbers-exceeded', details: { rank: 1, limit: 1 } } },
  { name: 'kept device within the limit', facts: register('8001'), options: keepDevices, expected: { kind: 'allow', basis: 'window-closed-device-kept' } },
  { name: 'window open: keepDevices changes nothing', facts: register('2001'), options: keepDevices, expected: { kind: 'allow', basis: 'licensed' } },

  // Number limits: the newest beyond the limit are refused.
  { name: 'fourth number of a 3-number tree', facts: register('2004'), expected: { kind: 'deny', reason: 'virtual-numbers-exceeded', details: { number: '2004', rootId: 2, group: 'sunrise', limit: 3, used: 4, rank: 3, scope: 'group' } } },
  { name: 'third number of a 3-number tree', facts: register('2002'), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'personal number cap', facts: register('2003'), expected: { kind: 'deny', reason: 'personal-license-exceeded', details: { number: '2003', limit: 1, used: 2, rank: 1, scope: 'user' } } },
  { name: 'closed window, kept device over the limit: refused as over the limit', facts: register('2004'), now: UNTIL, options: keepDevices, expected: { kind: 'deny', reason: 'virtual-numbers-exceeded' } },
  { name: 'window checked before the number limit', facts: register('2004'), now: UNTIL, expected: { kind: 'deny', reason: 'license-expired' } },

  // Mobile app: licensed installs.
  { name: 'licensed install', facts: app('2001', 'a1'), expected: { kind: 'allow', basis: 'install-licensed', claimInstall: false, details: { number: '2001', limit: 2, used: 2, rank: 0, scope: 'group' } } },
  { name: 'licensed install within personal cap', facts: app('2002', 'b1'), expected: { kind: 'allow', basis: 'install-licensed' } },
  { name: 'licensed install beyond a lowered app limit', facts: app('4002', 'f2'), expected: { kind: 'deny', reason: 'no-mobile-app-license', details: { number: '4002', limit: 3, used: 4, rank: 3, scope: 'group' } } },
  { name: 'licensed install beyond a lowered personal cap', facts: app('4003', 'g1'), expected: { kind: 'deny', reason: 'personal-license-exceeded', details: { limit: 0, used: 1, rank: 0, scope: 'user' } } },
  { name: 'install id of another number is a new install', facts: app('4002', 'f1'), expected: { kind: 'deny', reason: 'no-mobile-app-license', details: { limit: 3, used: 4 } } },
  { name: 'app without install id uses the number (licensed)', facts: app('4004', null), expected: { kind: 'allow', basis: 'install-licensed', claimInstall: false } },
  { name: 'app on a number beyond the number limit', facts: app('2004', 'a1'), expected: { kind: 'deny', reason: 'virtual-numbers-exceeded' } },

  // Mobile app: new installs.
  { name: 'new install with a free license', facts: app('3003', 'e1'), expected: { kind: 'allow', basis: 'install-new', claimInstall: true, details: { number: '3003', rootId: 3, limit: 5, used: 1, scope: 'group' } } },
  { name: 'new install without install id', facts: app('3003', null), expected: { kind: 'allow', basis: 'install-new', claimInstall: true } },
  { name: 'new install, tree has no free app license', facts: app('2001', 'a2'), expected: { kind: 'deny', reason: 'no-mobile-app-license', details: { limit: 2, used: 2, scope: 'group' } } },
  { name: 'new install, user has no free personal app license', facts: app('3002', 'd2'), expected: { kind: 'deny', reason: 'personal-license-exceeded', details: { number: '3002', limit: 1, used: 1, scope: 'user' } } },
  { name: 'new install outside the window', facts: app('2001', 'a2'), now: UNTIL, expected: { kind: 'deny', reason: 'license-expired' } },
];

function run(c: Case): Decision {
  return evaluateRegister(c.facts, WORLD, c.now ?? NOW, { ...DEFAULT_POLICY_OPTIONS, ...c.options });
}

describe('evaluateRegister', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(run(c)).toMatchObject(c.expected);
  });

  it('reaches every allow basis and every reason code a REGISTER can give', () => {
    const reasons = new Set<string>();
    const bases = new Set<string>();
    for (const c of CASES) {
      const d = run(c);
      if (d.kind === 'deny') reasons.add(d.reason);
      else bases.add(d.basis);
    }
    expect([...reasons].sort()).toEqual(REASON_CODES.filter((r) => r !== 'callee-license-expired').sort());
    expect([...bases].sort()).toEqual(
      ['deregister', 'install-licensed', 'install-new', 'licensed', 'unprovisioned', 'unrestricted', 'window-closed-device-kept'].sort(),
    );
  });

  it('uses the default options when none are given', () => {
    expect(evaluateRegister(register('9999'), WORLD, NOW)).toMatchObject({ kind: 'allow', basis: 'unprovisioned' });
    expect(evaluateRegister(register('6001'), WORLD, NOW)).toMatchObject({ kind: 'deny', reason: 'license-expired' });
  });

  it('does not change the snapshot (a claim is for the store to take)', () => {
    evaluateRegister(app('3003', 'e9'), WORLD, NOW);
    expect(WORLD.install('e9', '3003')).toBeUndefined();
    expect(WORLD.group(3)?.appsUsed).toBe(1);
  });
});
