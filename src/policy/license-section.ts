import type { RemindRepeat } from './remind-repeat.js';

/**
 * The Licences section of a root group (DESIGN.md §1), as the operator sets it: the one
 * declaration of its fields. The policy's snapshot, the store's rows and reports, the export file
 * and the lifecycle events derive their shapes from it. Times are ms since the epoch (UTC).
 */
export interface LicenseSection {
  /** "Enable restrictions". Off: unlimited, no window, nothing enforced. */
  readonly restrictions: boolean;
  readonly virtualNumbers: number;
  readonly mobileApps: number;
  /** The validity switch. Off: no window. On: open in [validFrom, validUntil); a null bound is open-ended. */
  readonly validity: boolean;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  /** Days before `validUntil` when `license.expiring` is first sent; null: no reminder. */
  readonly remindDays: number | null;
  /** How often the reminder repeats; drives notifications only, kept apart from what is enforced. */
  readonly remindRepeat: RemindRepeat;
}

/** What the policy enforces: the section without its reminder. */
export type EnforcedLicense = Omit<LicenseSection, 'remindDays' | 'remindRepeat'>;

/** The fields that place `now` in the validity window (`windowState`). */
export type LicenseWindow = Pick<LicenseSection, 'restrictions' | 'validity' | 'validFrom' | 'validUntil'>;

/** The section with its times as ISO 8601 strings, as files and JSON output carry them. */
export type WithIsoTimes<T extends Partial<LicenseWindow>> = {
  readonly [K in keyof T]: K extends 'validFrom' | 'validUntil' ? string | null : T[K];
};
