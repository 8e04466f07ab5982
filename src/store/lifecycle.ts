import { randomUUID } from 'node:crypto';
import type { EventSource, LifecycleEventType } from '../lifecycle/event-type.js';
import { changeTransition, planClockStep, type LifecycleFacts } from '../lifecycle/lifecycle-plan.js';
import { buildEvent, type InstallPush } from '../lifecycle/payloads.js';
import type { LicenseSection } from '../policy/license-section.js';
import type { RemindRepeat } from '../policy/remind-repeat.js';
import { windowState, type WindowState } from '../policy/window.js';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { licenseSettingsOf, type LicenseSettingsColumns } from './license-row.js';
import { enqueueEvent, type QueuedEvent } from './outbox.js';
import { statement } from './statements.js';

/**
 * The lifecycle of each root group's licence window, as stored: the state last announced and the
 * last reminder, next to the Licences row. Every write here happens in the transaction that
 * writes the outbox rows announcing it, so a transition is announced exactly once — whether the
 * daemon's scheduler or an operator's `licenses set` sees it first, and across restarts.
 */
export interface LifecycleRow extends LifecycleFacts, LicenseSection {
  readonly groupId: number;
  readonly group: string;
  readonly stateSince: number | null;
}

interface RowRaw extends LicenseSettingsColumns {
  state: WindowState | null;
  state_since: number | null;
  last_reminder_at: number | null;
  reminded_until: number | null;
}

const ROW_SELECT = `SELECT l.group_id, g.name, l.restrictions, l.virtual_numbers, l.mobile_apps, l.validity,
       l.valid_from, l.valid_until, l.remind_days, l.remind_repeat,
       lc.state, lc.state_since, lc.last_reminder_at, lc.reminded_until
FROM licenses l JOIN groups g ON g.id = l.group_id LEFT JOIN license_lifecycle lc ON lc.group_id = l.group_id`;

/** A mapper, not aliases: the Licences row's 0/1 columns are read as booleans (licenseSettingsOf). */
function toRow(r: RowRaw): LifecycleRow {
  return {
    ...licenseSettingsOf(r),
    recorded: r.state,
    stateSince: r.state_since,
    lastReminderAt: r.last_reminder_at,
    remindedUntil: r.reminded_until,
  };
}

export interface GroupFacts {
  readonly groupId: number;
  readonly facts: LifecycleFacts;
}

/**
 * The scheduler's scan: only what the plan needs, without the group names, as arrays rather than
 * objects — reading the rows is most of a scan's cost.
 */
export function lifecycleFacts(db: Db): GroupFacts[] {
  const rows = statement<[], unknown[]>(
    db,
    `SELECT l.group_id, l.restrictions, l.validity, l.valid_from, l.valid_until, l.remind_days, l.remind_repeat,
            lc.state, lc.last_reminder_at, lc.reminded_until
     FROM licenses l LEFT JOIN license_lifecycle lc ON lc.group_id = l.group_id`,
  )
    .raw(true)
    .all() as [number, number, number, number | null, number | null, number | null, RemindRepeat, WindowState | null, number | null, number | null][];
  return rows.map((r) => ({
    groupId: r[0],
    facts: {
      restrictions: r[1] === 1,
      validity: r[2] === 1,
      validFrom: r[3],
      validUntil: r[4],
      remindDays: r[5],
      remindRepeat: r[6],
      recorded: r[7],
      lastReminderAt: r[8],
      remindedUntil: r[9],
    },
  }));
}

export function lifecycleRow(db: Db, groupId: number): LifecycleRow | undefined {
  const r = statement<[number], RowRaw>(db, `${ROW_SELECT} WHERE l.group_id = ?`).get(groupId);
  return r && toRow(r);
}

/** Every app install of a root group's tree with its RFC 8599 push parameters, licensed or not. */
export function installPushes(db: Db, rootId: number): InstallPush[] {
  return statement<
    [number],
    { instance_id: string; number: string; login: string; licensed: number; pn_provider: string | null; pn_prid: string | null; pn_param: string | null }
  >(
    db,
    `SELECT a.instance_id, n.number, u.login, a.licensed, a.pn_provider, a.pn_prid, a.pn_param
     FROM app_installs a JOIN numbers n ON n.id = a.number_id JOIN users u ON u.id = a.user_id
     WHERE a.root_id = ? ORDER BY a.id`,
  )
    .all(rootId)
    .map((r) => ({
      instanceId: r.instance_id,
      number: r.number,
      user: r.login,
      licensed: r.licensed === 1,
      pnProvider: r.pn_provider,
      pnPrid: r.pn_prid,
      pnParam: r.pn_param,
    }));
}

function recordState(db: Db, groupId: number, state: WindowState, since: number, now: number): void {
  statement(
    db,
    `INSERT INTO license_lifecycle (group_id, state, state_since, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_id) DO UPDATE SET state = excluded.state, state_since = excluded.state_since, updated_at = excluded.updated_at`,
  ).run(groupId, state, since, now);
}

interface WriteInput {
  readonly type: LifecycleEventType;
  readonly row: LifecycleRow;
  readonly occurredAt: number;
  readonly now: number;
  readonly source: EventSource;
  readonly operator: string | null;
  readonly previousState: WindowState | null;
  readonly state: WindowState;
  readonly before?: LicenseSection;
  readonly withInstalls: boolean;
}

function writeEvent(db: Db, w: WriteInput): QueuedEvent {
  const built = buildEvent(
    {
      type: w.type,
      group: w.row.group,
      occurredAt: w.occurredAt,
      createdAt: w.now,
      source: w.source,
      operator: w.operator,
      previousState: w.previousState,
      state: w.state,
      license: w.row,
      ...(w.before ? { before: w.before, changed: changedSettings(w.before, w.row) } : {}),
      ...(w.withInstalls ? { installs: installPushes(db, w.row.groupId) } : {}),
    },
    randomUUID,
  );
  return enqueueEvent(db, {
    eventId: built.eventId,
    type: w.type,
    rootGroup: w.row.group,
    source: w.source,
    operator: w.operator,
    occurredAt: w.occurredAt,
    createdAt: w.now,
    payload: built.body,
  });
}

export interface ClockStepOptions {
  /** Write due `license.expiring` reminders (the scheduler does; an operator's change does not). */
  readonly reminders: boolean;
}

/**
 * Applies the time-driven part of the lifecycle to one group at `now`: a window transition not
 * announced yet (also one that happened while the daemon was down), the first sighting of a
 * group (recorded silently), and a due reminder. Call it inside a transaction.
 */
export function applyClockStep(db: Db, groupId: number, now: number, options: ClockStepOptions): QueuedEvent[] {
  const row = lifecycleRow(db, groupId);
  if (!row) return [];
  const plan = planClockStep(row, now);
  const events: QueuedEvent[] = [];
  if (plan.transition !== null) {
    events.push(
      writeEvent(db, {
        type: plan.transition,
        row,
        occurredAt: plan.transitionAt ?? now,
        now,
        source: 'scheduler',
        operator: null,
        previousState: row.recorded,
        state: plan.state,
        withInstalls: true,
      }),
    );
  }
  if (plan.record) recordState(db, groupId, plan.state, plan.transitionAt ?? now, now);
  if (options.reminders && plan.reminderAt !== null) {
    events.push(
      writeEvent(db, {
        type: 'license.expiring',
        row,
        occurredAt: plan.reminderAt,
        now,
        source: 'scheduler',
        operator: null,
        previousState: plan.state,
        state: plan.state,
        withInstalls: true,
      }),
    );
    statement(db, 'UPDATE license_lifecycle SET last_reminder_at = ?, reminded_until = ?, updated_at = ? WHERE group_id = ?').run(
      now,
      row.validUntil,
      now,
      groupId,
    );
  }
  return events;
}

/** The settings whose change is announced as `license.limits-changed`. */
const ENFORCED = ['restrictions', 'virtualNumbers', 'mobileApps', 'validity', 'validFrom', 'validUntil'] as const;

/** Names of the enforced settings that differ. */
export function changedSettings(before: LicenseSection, after: LicenseSection): string[] {
  return ENFORCED.filter((k) => before[k] !== after[k]);
}

/**
 * An operator's change of a root group's Licences section, part 1: called by `setLicenses` inside
 * its transaction before its UPDATE, so that a time-driven transition not announced yet (the
 * daemon was down, or has not ticked) is announced first and the events tell the story in order.
 */
export function catchUpBeforeChange(db: Db, groupId: number, ctx: ChangeContext): QueuedEvent[] {
  return applyClockStep(db, groupId, ctx.now, { reminders: false });
}

/**
 * Part 2, after the UPDATE: the change's own transition — `license.renewed` when a closed window
 * is open now (extended, or restrictions turned off), `license.expired` when an open one closed —
 * and `license.limits-changed` when an enforced setting changed.
 */
export function announceChange(db: Db, groupId: number, before: LicenseSection, ctx: ChangeContext): QueuedEvent[] {
  const row = lifecycleRow(db, groupId);
  if (!row) return [];
  const from = row.recorded ?? windowState(before, ctx.now);
  const to = windowState(row, ctx.now);
  const events: QueuedEvent[] = [];
  const transition = changeTransition(from, to);
  const common = { row, occurredAt: ctx.now, now: ctx.now, source: 'operator' as const, operator: ctx.operator, previousState: from, state: to };
  if (transition !== null) events.push(writeEvent(db, { ...common, type: transition, withInstalls: true }));
  if (from !== to || row.recorded === null) recordState(db, groupId, to, ctx.now, ctx.now);
  if (changedSettings(before, row).length > 0) {
    events.push(writeEvent(db, { ...common, type: 'license.limits-changed', before, withInstalls: false }));
  }
  return events;
}
