import { windowState, type WindowState } from '../policy/window.js';
import type { Db } from './database.js';
import { formatIsoUtcOrNull } from './iso-time.js';
import { statement } from './statements.js';

/** Used / limit of one licence kind. `remaining` and `over` are never negative. */
export interface LimitReport {
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** How far a lowered limit is below what is already in use (DESIGN.md §1). */
  readonly over: number;
}

/** The Licences section of a root group as `licenses show --json` prints it. Times: ISO 8601 UTC. */
export interface LicenseReport {
  readonly group: string;
  readonly restrictions: boolean;
  readonly virtualNumbers: LimitReport;
  readonly mobileApps: LimitReport;
  readonly validity: {
    readonly enabled: boolean;
    readonly validFrom: string | null;
    readonly validUntil: string | null;
    readonly state: WindowState;
  };
}

interface ReportRaw {
  restrictions: number;
  virtual_numbers: number;
  mobile_apps: number;
  validity: number;
  valid_from: number | null;
  valid_until: number | null;
  numbers_used: number;
  apps_used: number;
}

function limitReport(limit: number, used: number): LimitReport {
  return { limit, used, remaining: Math.max(0, limit - used), over: Math.max(0, used - limit) };
}

/** Thrown when `licenseReport` is asked about a name that is not a root group (callers check first). */
export class NotARootGroupError extends Error {
  constructor(readonly groupName: string) {
    super(`'${groupName}' is not a root group`);
    this.name = 'NotARootGroupError';
  }
}

/**
 * The Licences section of the root group `groupName` at `now`. One indexed lookup: the used
 * counts come from the counter columns the triggers keep, never from counting rows, so the cost
 * does not grow with the number of numbers or installs.
 */
export function licenseReport(db: Db, groupName: string, now: number): LicenseReport {
  const r = statement<[string], ReportRaw>(
    db,
    `SELECT l.restrictions, l.virtual_numbers, l.mobile_apps, l.validity, l.valid_from, l.valid_until,
            l.numbers_used, l.apps_used
     FROM groups g JOIN licenses l ON l.group_id = g.id WHERE g.name = ? AND g.parent_id IS NULL`,
  ).get(groupName);
  if (!r) throw new NotARootGroupError(groupName);
  const restrictions = r.restrictions === 1;
  const validity = r.validity === 1;
  return {
    group: groupName,
    restrictions,
    virtualNumbers: limitReport(r.virtual_numbers, r.numbers_used),
    mobileApps: limitReport(r.mobile_apps, r.apps_used),
    validity: {
      enabled: validity,
      validFrom: formatIsoUtcOrNull(r.valid_from),
      validUntil: formatIsoUtcOrNull(r.valid_until),
      state: windowState({ restrictions, validity, validFrom: r.valid_from, validUntil: r.valid_until }, now),
    },
  };
}
