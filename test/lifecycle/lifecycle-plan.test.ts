import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeTransition, clockTransition } from '../../src/lifecycle/lifecycle-plan.js';
import { addUtcMonths, latestReminderPoint, nextReminderPoint } from '../../src/lifecycle/reminder-schedule.js';
import type { WindowState } from '../../src/policy/window.js';

const STATES: readonly WindowState[] = ['unrestricted', 'active', 'not-yet-valid', 'expired'];
const DAY = 86_400_000;

describe('transitions', () => {
  // [from, to, by the clock, by an operator's change]
  const table: readonly [WindowState, WindowState, string | null, string | null][] = [
    ['active', 'expired', 'license.expired', 'license.expired'],
    ['unrestricted', 'expired', 'license.expired', 'license.expired'],
    ['not-yet-valid', 'expired', 'license.expired', null],
    ['not-yet-valid', 'active', 'license.activated', 'license.renewed'],
    ['expired', 'active', 'license.activated', 'license.renewed'],
    ['expired', 'unrestricted', 'license.activated', 'license.renewed'],
    ['not-yet-valid', 'unrestricted', 'license.activated', 'license.renewed'],
    ['active', 'not-yet-valid', null, null],
    ['expired', 'not-yet-valid', null, null],
    ['active', 'unrestricted', null, null],
    ['unrestricted', 'active', null, null],
  ];
  it.each(table)('%s -> %s: clock %s, change %s', (from, to, clock, change) => {
    expect(clockTransition(from, to)).toBe(clock);
    expect(changeTransition(from, to)).toBe(change);
  });

  it('no state change is no event, and a group seen for the first time is no event', () => {
    for (const s of STATES) {
      expect(clockTransition(s, s)).toBeNull();
      expect(changeTransition(s, s)).toBeNull();
      expect(clockTransition(null, s)).toBeNull();
    }
  });
});

describe('reminder schedule', () => {
  it('adds calendar months, clamping to the end of a shorter month', () => {
    expect(new Date(addUtcMonths(Date.UTC(2026, 0, 31, 9), 1)).toISOString()).toBe('2026-02-28T09:00:00.000Z');
    expect(new Date(addUtcMonths(Date.UTC(2027, 11, 15), 2)).toISOString()).toBe('2028-02-15T00:00:00.000Z');
  });

  it('the latest point is never after now nor at/after validUntil, and the next one is the first after now', () => {
    const repeat = fc.constantFrom('once', 'daily', 'weekly', 'monthly' as const);
    fc.assert(
      fc.property(repeat, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 500 * DAY }), (r, days, offset) => {
        const s = { validUntil: Date.UTC(2027, 0, 1), remindDays: days, repeat: r };
        const now = s.validUntil - 450 * DAY + offset;
        const latest = latestReminderPoint(s, now);
        const next = nextReminderPoint(s, now);
        if (latest !== null) {
          expect(latest).toBeLessThanOrEqual(now);
          expect(latest).toBeGreaterThanOrEqual(s.validUntil - days * DAY);
          expect(latest).toBeLessThan(s.validUntil);
        }
        if (next !== null) {
          expect(next).toBeGreaterThan(now);
          expect(next).toBeLessThan(s.validUntil);
          // Nothing scheduled between now and next: the latest point just before next is not after now.
          expect(latestReminderPoint(s, next - 1) ?? Number.NEGATIVE_INFINITY).toBeLessThanOrEqual(now);
        }
      }),
    );
  });
});
