import { dueReminder, nextReminder, nextWindowTransition, type LifecycleFacts, type TimeTransition } from '../lifecycle/lifecycle-plan.js';
import type { RemindRepeat } from '../policy/remind-repeat.js';
import type { EnforcementMode } from '../policy/enforcement-mode.js';
import { windowState, type WindowState } from '../policy/window.js';
import type { Db } from './database.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../shared/iso-time.js';
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
  /**
   * The project's enforcement mode (`licenses set --enforcement`): `shadow` forwards what would be
   * refused, `enforce` refuses it, null follows the sidecar's `policy.mode` (enforce by default).
   */
  readonly enforcement: EnforcementMode | null;
  /**
   * The next time-driven transition of the window (license.activated / license.expired). Present
   * only when one is scheduled, so the report of a group without a window keeps its earlier shape.
   */
  readonly nextTransition?: { readonly event: TimeTransition; readonly at: string };
  /** The expiry reminder (license.expiring): present when a reminder is set or has been sent. */
  readonly reminder?: {
    readonly days: number | null;
    readonly repeat: RemindRepeat;
    readonly lastSentAt: string | null;
    readonly nextAt: string | null;
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
  remind_days: number | null;
  remind_repeat: RemindRepeat;
  enforcement: EnforcementMode | null;
  state: WindowState | null;
  last_reminder_at: number | null;
  reminded_until: number | null;
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
            l.numbers_used, l.apps_used, l.remind_days, l.remind_repeat, l.enforcement,
            lc.state, lc.last_reminder_at, lc.reminded_until
     FROM groups g JOIN licenses l ON l.group_id = g.id LEFT JOIN license_lifecycle lc ON lc.group_id = g.id
     WHERE g.name = ? AND g.parent_id IS NULL`,
  ).get(groupName);
  if (!r) throw new NotARootGroupError(groupName);
  const restrictions = r.restrictions === 1;
  const validity = r.validity === 1;
  const facts: LifecycleFacts = {
    restrictions,
    validity,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    remindDays: r.remind_days,
    remindRepeat: r.remind_repeat,
    recorded: r.state,
    lastReminderAt: r.last_reminder_at,
    remindedUntil: r.reminded_until,
  };
  const next = nextWindowTransition(facts, now);
  const reminderAt = dueReminder(facts, now) ?? nextReminder(facts, now);
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
    enforcement: r.enforcement,
    ...(next === null ? {} : { nextTransition: { event: next.type, at: formatIsoUtc(next.at) } }),
    ...(r.remind_days === null && r.last_reminder_at === null
      ? {}
      : {
          reminder: {
            days: r.remind_days,
            repeat: r.remind_repeat,
            lastSentAt: formatIsoUtcOrNull(r.last_reminder_at),
            nextAt: formatIsoUtcOrNull(reminderAt),
          },
        }),
  };
}
