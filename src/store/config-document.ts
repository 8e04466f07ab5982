import type { LicenseSection, WithIsoTimes } from '../policy/license-section.js';
import type { RemindRepeat } from '../policy/remind-repeat.js';

import type { EnforcementMode } from '../policy/enforcement-mode.js';
/**
 * The whole configuration as `sipwarden export` writes it and `sipwarden import` reads it.
 * Times are ISO 8601 UTC strings. Lists are in creation order (parents before children, numbers
 * in the order that ranks them), so an import recreates the same ranks.
 *
 * Not included, on purpose: operator tokens and their hashes (a file that could grant access
 * must never leave the server), app installs (runtime state: each app claims a license again on
 * its next REGISTER), and the audit log.
 */
export const CONFIG_FORMAT = 'sipwarden-config';
export const CONFIG_VERSION = 1;

/** The Licences section with ISO 8601 times; `remindRepeat` is absent in files from before reminders repeated ('once'). */
export type ConfigLicenses = WithIsoTimes<Omit<LicenseSection, 'remindRepeat'>> & {
  readonly remindRepeat?: RemindRepeat;
  /** The project's enforcement mode; absent: the sidecar's policy.mode. */
  readonly enforcement?: EnforcementMode;
};

export interface ConfigGroup {
  readonly name: string;
  readonly parent: string | null;
  readonly createdAt: string;
  /** Only on root groups; omitted on import means the defaults (restrictions off). */
  readonly licenses?: ConfigLicenses | undefined;
}

export interface ConfigUser {
  readonly login: string;
  readonly group: string;
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
  readonly createdAt: string;
}

export interface ConfigNumber {
  readonly number: string;
  readonly user: string;
  readonly createdAt: string;
}

export interface ConfigOperator {
  readonly name: string;
  readonly permissions: readonly string[];
}

export interface ConfigDocument {
  readonly format: typeof CONFIG_FORMAT;
  readonly version: typeof CONFIG_VERSION;
  readonly groups: readonly ConfigGroup[];
  readonly users: readonly ConfigUser[];
  readonly numbers: readonly ConfigNumber[];
  /** Absent on import: operators are left as they are. */
  readonly operators?: readonly ConfigOperator[] | undefined;
}
