import { describe, expect, it } from 'vitest';
import type { AllowBasis, Decision, DecisionDetails } from '../../src/policy/decision.js';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { REASON_CODES, type ReasonCode } from '../../src/policy/reason-code.js';
import { DEFAULT_POLICY_OPTIONS, type InviteFacts, type PolicyOptions } from '../../src/policy/request-facts.js';
import { invite } from './fixtures.js';
import { FROM, NOW, UNTIL, WORLD } from './world.js';

type Expected =
  | { kind: 'allow'; basis: AllowBasis; claimInstall?: false; details?: DecisionDetails }
  | { kind: 'deny'; reason: ReasonCode; details?: DecisionDetails };

interface Case {
  readonly name: string;
  readonly facts: InviteFacts;
  readonly now?: number;
  readonly options?: Partial<PolicyOptions>;
  readonly expected: Expected;
}

const strict = { unknownNumbers: 'reject' } as const;
const fromApp = (installId: string | null) => ({ isMobileApp: true, installId });

const CASES: readonly Case[] = [
  // Caller.
  { name: 'licensed caller to a licensed callee', facts: invite('2001', '7001'), expected: { kind: 'allow', basis: 'licensed', claimInstall: false, details: { number: '2001', callee: '7001', rootId: 2, group: 'sunrise' } } },
  { name: 'unknown caller passes by default', facts: invite('9999', '2001'), expected: { kind: 'allow', basis: 'unprovisioned', details: { number: '9999', callee: '2001' } } },
  { name: 'unknown caller refused in strict mode', facts: invite('9999', '2001'), options: strict, expected: { kind: 'deny', reason: 'unknown-number', details: { number: '9999', callee: '2001' } } },
  { name: 'no caller identity refused in strict mode', facts: invite(null, '2001'), options: strict, expected: { kind: 'deny', reason: 'unknown-number' } },
  { name: 'unrestricted caller', facts: invite('1001', '2001'), expected: { kind: 'allow', basis: 'unrestricted', details: { group: 'open' } } },
  { name: 'unrestricted app caller with an unknown install', facts: invite('1001', '2001', fromApp('zz')), expected: { kind: 'allow', basis: 'unrestricted' } },
  { name: 'caller expired', facts: invite('6001', '2001'), expected: { kind: 'deny', reason: 'license-expired', details: { number: '6001', callee: '2001', group: 'past', validUntil: FROM } } },
  { name: 'caller expired although devices are kept registered', facts: invite('6001', '2001'), options: { registerOutsideWindow: 'allow-sip-devices' }, expected: { kind: 'deny', reason: 'license-expired' } },
  { name: 'caller not yet valid', facts: invite('5001', '2001'), expected: { kind: 'deny', reason: 'license-not-yet-valid', details: { validFrom: UNTIL } } },
  { name: 'caller at validUntil', facts: invite('2001', '7001'), now: UNTIL, expected: { kind: 'deny', reason: 'license-expired' } },
  { name: 'caller at validFrom', facts: invite('2001', '7001'), now: FROM, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'caller beyond the number limit', facts: invite('2004', '2001'), expected: { kind: 'deny', reason: 'virtual-numbers-exceeded', details: { number: '2004', callee: '2001', limit: 3, used: 4, rank: 3, scope: 'group' } } },
  { name: 'caller beyond the personal number cap', facts: invite('2003', '2001'), expected: { kind: 'deny', reason: 'personal-license-exceeded', details: { limit: 1, rank: 1, scope: 'user' } } },

  // Every identity (DESIGN.md §2; issue 7, hole 4): Proxy-Authorization users beside From.
  { name: 'digest user naming the caller', facts: invite('2001', '7001', { credentials: ['2001'] }), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'expired digest user behind a licensed From', facts: invite('2001', '7001', { credentials: ['6001'] }), expected: { kind: 'deny', reason: 'ambiguous-identity', details: { number: '2001', callee: '7001', group: 'sunrise' } } },
  { name: 'licensed digest user behind an expired From', facts: invite('6001', '7001', { credentials: ['2001'] }), expected: { kind: 'deny', reason: 'ambiguous-identity' } },
  { name: 'unreadable callee', facts: invite('2001', null, { unreadable: 'the Request-URI user part' }), expected: { kind: 'deny', reason: 'ambiguous-identity', details: { number: '2001' } } },
  { name: 'caller skipped (domain not served): unknown caller in strict mode passes', facts: invite('9999', '2001', { skipCaller: true }), options: strict, expected: { kind: 'allow', basis: 'callee-only', details: { callee: '2001' } } },
  { name: 'caller skipped: an expired caller is not checked', facts: invite('6001', '2001', { skipCaller: true, credentials: ['6001'] }), expected: { kind: 'allow', basis: 'callee-only' } },
  { name: 'caller skipped: the callee still is', facts: invite('2001', '6001', { skipCaller: true }), expected: { kind: 'deny', reason: 'callee-license-expired', details: { callee: '6001' } } },

  // Caller is the app.
  { name: 'app caller with a licensed install', facts: invite('2001', '7001', fromApp('a1')), expected: { kind: 'allow', basis: 'install-licensed' } },
  { name: 'app caller with an unlicensed install (INVITE takes none)', facts: invite('3003', '2001', fromApp('e1')), expected: { kind: 'deny', reason: 'no-mobile-app-license', details: { number: '3003', callee: '2001', limit: 5, used: 1, scope: 'group' } } },
  { name: 'app caller beyond a lowered app limit', facts: invite('4002', '2001', fromApp('f2')), expected: { kind: 'deny', reason: 'no-mobile-app-license', details: { rank: 3, limit: 3 } } },
  { name: 'app caller beyond a lowered personal app cap', facts: invite('4003', '2001', fromApp('g1')), expected: { kind: 'deny', reason: 'personal-license-exceeded', details: { limit: 0, rank: 0, scope: 'user' } } },
  { name: 'app caller without install id: number checks only', facts: invite('3003', '2001', fromApp(null)), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'app caller expired', facts: invite('6001', '2001', fromApp('p1')), expected: { kind: 'deny', reason: 'license-expired' } },

  // Callee.
  { name: 'callee expired', facts: invite('2001', '6001'), expected: { kind: 'deny', reason: 'callee-license-expired', details: { number: '2001', callee: '6001', rootId: 2, group: 'sunrise', calleeGroup: 'past', validFrom: null, validUntil: FROM } } },
  { name: 'unknown caller to an expired callee names only the callee project', facts: invite('9999', '6001'), expected: { kind: 'deny', reason: 'callee-license-expired', details: { number: '9999', group: undefined, callee: '6001', calleeGroup: 'past' } } },
  { name: 'callee not yet valid', facts: invite('2001', '5001'), expected: { kind: 'deny', reason: 'callee-license-expired', details: { validFrom: UNTIL } } },
  { name: 'callee window not checked when disabled', facts: invite('2001', '6001'), options: { checkCalleeWindow: false }, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'unknown caller to an expired callee', facts: invite('9999', '6001'), expected: { kind: 'deny', reason: 'callee-license-expired' } },
  { name: 'unknown callee', facts: invite('2001', '9999'), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'no callee', facts: invite('2001', null), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'unrestricted callee (its window is ignored)', facts: invite('2001', '1001'), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'callee over its number limit (only its window counts)', facts: invite('2001', '2004'), expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'callee at the edge: now == validFrom is open', facts: invite('7001', '2001'), now: FROM, expected: { kind: 'allow', basis: 'licensed' } },
  { name: 'callee at the edge: now == validUntil is closed', facts: invite('7001', '2001'), now: UNTIL, expected: { kind: 'deny', reason: 'callee-license-expired' } },
  { name: 'caller refusal comes before the callee', facts: invite('6001', '6001'), expected: { kind: 'deny', reason: 'license-expired' } },
];

function run(c: Case): Decision {
  return evaluateInvite(c.facts, WORLD, c.now ?? NOW, { ...DEFAULT_POLICY_OPTIONS, ...c.options });
}

describe('evaluateInvite', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(run(c)).toMatchObject(c.expected);
  });

  it('reaches every reason code and the allow bases an INVITE can give', () => {
    const reasons = new Set<string>();
    const bases = new Set<string>();
    for (const c of CASES) {
      const d = run(c);
      if (d.kind === 'deny') reasons.add(d.reason);
      else bases.add(d.basis);
    }
    expect([...reasons].sort()).toEqual([...REASON_CODES].sort());
    expect([...bases].sort()).toEqual(['callee-only', 'install-licensed', 'licensed', 'unprovisioned', 'unrestricted']);
  });

  it('never asks for a license to be taken', () => {
    for (const c of CASES) {
      const d = run(c);
      if (d.kind === 'allow') expect(d.claimInstall).toBe(false);
    }
  });

  it('uses the default options when none are given', () => {
    expect(evaluateInvite(invite('9999', '6001'), WORLD, NOW)).toMatchObject({ kind: 'deny', reason: 'callee-license-expired' });
  });
});
