import { isWindowClosed, windowState, type WindowState } from '../policy/window.js';
import type { LifecycleEventType } from './event-type.js';
import type { LicenseSection, LicenseWindow } from '../policy/license-section.js';
import { latestReminderPoint, nextReminderPoint, type ReminderSettings } from './reminder-schedule.js';

/**
 * Pure lifecycle rules: from a root group's Licences settings, the state last announced and the
 * time, which events are due. No I/O and no clock reads; the store applies the plan in one
 * transaction with the outbox rows it produces.
 *
 * ```
 *                 validFrom reached                 validUntil passed
 *   not-yet-valid ───── activated ────► active ─────── expired ──────► expired
 *        │                                ▲                               │
 *        └──────────── expired ───────────┼──── (daemon down all along) ──┘
 *                                         └── renewed (operator reopens) ─┘
 * ```
 * `unrestricted` (restrictions off) counts as open: closed → unrestricted by an operator is a
 * renewal, as is any operator change that turns a closed window into an open one.
 */
export interface LifecycleFacts extends LicenseWindow, Pick<LicenseSection, 'remindDays' | 'remindRepeat'> {
  /** The state last announced; null when the group has not been seen yet. */
  readonly recorded: WindowState | null;
  readonly lastReminderAt: number | null;
  /** The `validUntil` the last reminder was about. */
  readonly remindedUntil: number | null;
}

export type TimeTransition = Extract<LifecycleEventType, 'license.expired' | 'license.activated'>;
export type ChangeTransition = Extract<LifecycleEventType, 'license.renewed' | 'license.expired'>;

export interface ClockStep {
  /** The window state at `now`. */
  readonly state: WindowState;
  /** The stored state must be written (it changed, or there is none yet). */
  readonly record: boolean;
  readonly transition: TimeTransition | null;
  /** When the transition happened (the bound that was crossed). */
  readonly transitionAt: number | null;
  /** A `license.expiring` is due: the reminder time it stands for. */
  readonly reminderAt: number | null;
  /** The next time something may become due for this group, or null (nothing scheduled). */
  readonly nextAt: number | null;
}

const isOpen = (s: WindowState): boolean => !isWindowClosed(s);

/** A transition that time alone made (the daemon's scheduler). */
export function clockTransition(from: WindowState | null, to: WindowState): TimeTransition | null {
  if (from === null || from === to) return null;
  if (to === 'expired') return 'license.expired';
  if (isWindowClosed(from) && isOpen(to)) return 'license.activated';
  return null;
}

/** A transition that an operator's change made (`licenses set`). */
export function changeTransition(from: WindowState, to: WindowState): ChangeTransition | null {
  if (from === to) return null;
  if (isWindowClosed(from) && isOpen(to)) return 'license.renewed';
  if (isOpen(from) && to === 'expired') return 'license.expired';
  return null;
}

function reminderSettings(f: LifecycleFacts): ReminderSettings | null {
  if (!f.restrictions || !f.validity || f.validUntil === null || f.remindDays === null) return null;
  return { validUntil: f.validUntil, remindDays: f.remindDays, repeat: f.remindRepeat };
}

/** The reminder time due at `now`, if no reminder has been written for it yet. */
export function dueReminder(f: LifecycleFacts, now: number): number | null {
  const s = reminderSettings(f);
  if (s === null || windowState(f, now) !== 'active') return null;
  const point = latestReminderPoint(s, now);
  if (point === null) return null;
  const alreadySent = f.remindedUntil === s.validUntil && f.lastReminderAt !== null && f.lastReminderAt >= point;
  return alreadySent ? null : point;
}

/** The next reminder time after `now`, or null. */
export function nextReminder(f: LifecycleFacts, now: number): number | null {
  const s = reminderSettings(f);
  return s === null ? null : nextReminderPoint(s, now);
}

/** The next window transition that time will make, or null when none is scheduled. */
export function nextWindowTransition(f: LifecycleFacts, now: number): { readonly type: TimeTransition; readonly at: number } | null {
  const state = windowState(f, now);
  if (state === 'not-yet-valid' && f.validFrom !== null) return { type: 'license.activated', at: f.validFrom };
  if (state === 'active' && f.validity && f.validUntil !== null) return { type: 'license.expired', at: f.validUntil };
  return null;
}

/** What the scheduler must do for one group at `now`. */
export function planClockStep(f: LifecycleFacts, now: number): ClockStep {
  const state = windowState(f, now);
  const transition = clockTransition(f.recorded, state);
  let transitionAt: number | null = null;
  if (transition === 'license.expired') transitionAt = f.validUntil ?? now;
  if (transition === 'license.activated') transitionAt = f.validFrom ?? now;
  const times = [nextWindowTransition(f, now)?.at ?? null, nextReminder(f, now)].filter((t): t is number => t !== null);
  return {
    state,
    record: f.recorded !== state,
    transition,
    transitionAt,
    reminderAt: dueReminder(f, now),
    nextAt: times.length === 0 ? null : Math.min(...times),
  };
}
