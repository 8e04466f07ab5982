/**
 * The lifecycle events sipwarden writes to its outbox and posts to the push gateway
 * (DESIGN.md §3 "Lifecycle and notifications"):
 *
 * - `license.expired`: `validUntil` passed (or an operator closed the window).
 * - `license.activated`: `validFrom` was reached.
 * - `license.renewed`: an operator change reopened a closed window (extended it, or turned
 *   restrictions off for a blocked group): the mobile-app users are woken by a push.
 * - `license.expiring`: `remindDays` before `validUntil`, repeated as `remindRepeat` says.
 * - `license.limits-changed`: an operator changed the enforced Licences settings.
 */
export const EVENT_TYPES = [
  'license.expired',
  'license.activated',
  'license.renewed',
  'license.expiring',
  'license.limits-changed',
] as const;

export type LifecycleEventType = (typeof EVENT_TYPES)[number];

/**
 * What caused an event: time (`scheduler` — written by the daemon, or by a CLI change that found a
 * time-driven transition not announced yet) or an operator's change (`operator`).
 */
export type EventSource = 'scheduler' | 'operator';
