import type { LicenseWindow } from './license-section.js';

/**
 * Where `now` falls with respect to a root group's validity window (DESIGN.md §1):
 *
 * - `unrestricted`: "Enable restrictions" is off, so there is no window at all;
 * - `active`: the validity switch is off, or `validFrom <= now < validUntil`;
 * - `not-yet-valid`: `now < validFrom`;
 * - `expired`: `now >= validUntil`.
 *
 * The window is half-open, `[validFrom, validUntil)`; a null bound is open-ended.
 */
export type WindowState = 'unrestricted' | 'active' | 'not-yet-valid' | 'expired';

export function windowState(g: LicenseWindow, now: number): WindowState {
  if (!g.restrictions) return 'unrestricted';
  if (!g.validity) return 'active';
  if (g.validFrom !== null && now < g.validFrom) return 'not-yet-valid';
  if (g.validUntil !== null && now >= g.validUntil) return 'expired';
  return 'active';
}

/** True when requests of the group are blocked by its window. */
export function isWindowClosed(state: WindowState): state is 'not-yet-valid' | 'expired' {
  return state === 'not-yet-valid' || state === 'expired';
}
