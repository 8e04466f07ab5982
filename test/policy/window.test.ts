import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import { isWindowClosed, windowState, type WindowState } from '../../src/policy/window.js';
import { invite, register, snapshotOf, T0 } from './fixtures.js';

const g = (restrictions: boolean, validity: boolean, validFrom: number | null, validUntil: number | null) => ({
  restrictions,
  validity,
  validFrom,
  validUntil,
});

describe('windowState', () => {
  it.each<[string, ReturnType<typeof g>, number, WindowState]>([
    ['restrictions off wins over a past window', g(false, true, null, 10), 20, 'unrestricted'],
    ['validity off: always active', g(true, false, 10, 20), 30, 'active'],
    ['before validFrom', g(true, true, 10, 20), 9, 'not-yet-valid'],
    ['at validFrom', g(true, true, 10, 20), 10, 'active'],
    ['just before validUntil', g(true, true, 10, 20), 19, 'active'],
    ['at validUntil', g(true, true, 10, 20), 20, 'expired'],
    ['open start', g(true, true, null, 20), -1e15, 'active'],
    ['open end', g(true, true, 10, null), 1e15, 'active'],
    ['both open', g(true, true, null, null), 0, 'active'],
  ])('%s', (_name, group, now, expected) => {
    expect(windowState(group, now)).toBe(expected);
  });

  it('isWindowClosed is true exactly for not-yet-valid and expired', () => {
    expect((['unrestricted', 'active', 'not-yet-valid', 'expired'] as const).filter(isWindowClosed)).toEqual([
      'not-yet-valid',
      'expired',
    ]);
  });

  const bound = fc.option(fc.integer({ min: -1_000, max: 1_000 }), { nil: null });
  const windows = fc
    .tuple(bound, bound)
    .filter(([from, until]) => from === null || until === null || until > from)
    .map(([from, until]) => ({ from: from === null ? null : T0 + from, until: until === null ? null : T0 + until }));
  const nows = fc.integer({ min: -1_100, max: 1_100 }).map((d) => T0 + d);

  it('agrees with validFrom <= now < validUntil (property)', () => {
    fc.assert(
      fc.property(windows, nows, ({ from, until }, now) => {
        const open = (from === null || from <= now) && (until === null || now < until);
        const state = windowState(g(true, true, from, until), now);
        expect(state === 'active').toBe(open);
        expect(state === 'not-yet-valid').toBe(from !== null && now < from);
      }),
    );
  });

  it('REGISTER and INVITE follow the window (property)', () => {
    fc.assert(
      fc.property(windows, nows, ({ from, until }, now) => {
        const open = (from === null || from <= now) && (until === null || now < until);
        const snap = snapshotOf([
          { rootId: 1, validity: true, validFrom: from, validUntil: until, users: [{ userId: 1 }], numbers: [['100', 1], ['101', 1]] },
        ]);
        expect(evaluateRegister(register('100'), snap, now).kind === 'allow').toBe(open);
        expect(evaluateInvite(invite('100', null), snap, now).kind === 'allow').toBe(open);
        const toCallee = evaluateInvite(invite('999', '101'), snap, now);
        expect(toCallee.kind === 'allow').toBe(open);
        if (!open) expect(toCallee).toMatchObject({ reason: 'callee-license-expired' });
      }),
    );
  });
});
