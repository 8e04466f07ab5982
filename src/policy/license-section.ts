import type { RemindRepeat } from './remind-repeat.js';

/**
 * The Licences section of a root group (DESIGN.md §1), as the operator sets it. Times in ms (UTC).
 * `remindDays` and `remindRepeat` drive the expiry reminder only; the other fields are enforced.
 */
export interface LicenseSection {
  readonly restrictions: boolean;
  readonly virtualNumbers: number;
  readonly mobileApps: number;
  readonly validity: boolean;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly remindDays: number | null;
  readonly remindRepeat: RemindRepeat;
}
