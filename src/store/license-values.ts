import type { LicenseSection } from '../policy/license-section.js';
import { formatIsoUtcOrNull } from '../shared/iso-time.js';
import { fail, type Failure } from './outcome.js';
import { checkLimit, checkOptionalLimit, checkTime, firstFailure } from './validation.js';

/*
 * The values of a Licences section on their own, apart from any row: what a new root group
 * (groups.ts) and a change of the section (license-settings.ts) both check and audit.
 */

/** The Licences section without the reminder's repetition, which is stored and audited apart. */
export type LicenseSettings = Omit<LicenseSection, 'remindRepeat'>;

/** The invariants of one Licences section on its own (DESIGN.md §1). */
export function validateLicenseSettings(s: LicenseSettings): Failure | null {
  const bad = firstFailure(
    checkLimit('virtualNumbers', s.virtualNumbers),
    checkLimit('mobileApps', s.mobileApps),
    checkTime('validFrom', s.validFrom),
    checkTime('validUntil', s.validUntil),
    checkOptionalLimit('remindDays', s.remindDays),
  );
  if (bad) return bad;
  if (s.mobileApps > s.virtualNumbers) {
    return fail(
      'invalid',
      'mobileApps',
      `the mobile-app limit (${s.mobileApps}) is above the virtual-number limit (${s.virtualNumbers}); expected at most ${s.virtualNumbers}`,
    ).failure;
  }
  if (s.validFrom !== null && s.validUntil !== null && s.validUntil <= s.validFrom) {
    return fail(
      'invalid',
      'validUntil',
      `the end of validity (${formatIsoUtcOrNull(s.validUntil)}) is not after its start (${formatIsoUtcOrNull(s.validFrom)}); expected a later time`,
    ).failure;
  }
  return null;
}

/** The settings with ISO 8601 times, as shown in the audit log and exports. */
export function settingsForDisplay(s: LicenseSettings): Record<string, unknown> {
  return { ...s, validFrom: formatIsoUtcOrNull(s.validFrom), validUntil: formatIsoUtcOrNull(s.validUntil) };
}

/** The seven settings as the licenses table stores them, in its column order (booleans as 0/1). */
export function settingsColumns(s: LicenseSettings): [number, number, number, number, number | null, number | null, number | null] {
  return [s.restrictions ? 1 : 0, s.virtualNumbers, s.mobileApps, s.validity ? 1 : 0, s.validFrom, s.validUntil, s.remindDays];
}
