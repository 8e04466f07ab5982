import type { RemindRepeat } from '../policy/remind-repeat.js';

const DAY_MS = 86_400_000;

export interface ReminderSettings {
  readonly validUntil: number;
  readonly remindDays: number;
  readonly repeat: RemindRepeat;
}

/**
 * The reminder times of one window: `start = validUntil - remindDays`, then (unless `once`) every
 * day, week or calendar month (UTC) after `start`, while before `validUntil`. Times are counted
 * from `start`, not from when the last reminder went out, so a late tick does not shift the
 * schedule.
 */
export function reminderStart(s: ReminderSettings): number {
  return s.validUntil - s.remindDays * DAY_MS;
}

/** The k-th reminder time (k = 0 is `start`). */
function pointAt(s: ReminderSettings, k: number): number {
  const start = reminderStart(s);
  switch (s.repeat) {
    case 'once':
      return k === 0 ? start : Number.POSITIVE_INFINITY;
    case 'daily':
      return start + k * DAY_MS;
    case 'weekly':
      return start + k * 7 * DAY_MS;
    case 'monthly':
      return addUtcMonths(start, k);
  }
}

/** `t` plus `months` calendar months (UTC), the day clamped to the month's last day. */
export function addUtcMonths(t: number, months: number): number {
  const d = new Date(t);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Index of the last point at or before `now` (−1 when `now` is before `start`). */
function lastIndex(s: ReminderSettings, now: number): number {
  const start = reminderStart(s);
  if (now < start) return -1;
  switch (s.repeat) {
    case 'once':
      return 0;
    case 'daily':
      return Math.floor((now - start) / DAY_MS);
    case 'weekly':
      return Math.floor((now - start) / (7 * DAY_MS));
    case 'monthly': {
      const a = new Date(start);
      const b = new Date(now);
      let k = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
      while (k > 0 && addUtcMonths(start, k) > now) k--;
      return k;
    }
  }
}

/** The latest reminder time at or before `now`, or null (none yet, or the window has ended). */
export function latestReminderPoint(s: ReminderSettings, now: number): number | null {
  if (now >= s.validUntil) return null;
  const k = lastIndex(s, now);
  return k < 0 ? null : pointAt(s, k);
}

/** The first reminder time after `now` that is still before `validUntil`, or null. */
export function nextReminderPoint(s: ReminderSettings, now: number): number | null {
  const next = pointAt(s, lastIndex(s, now) + 1);
  return next < s.validUntil && next > now ? next : null;
}
