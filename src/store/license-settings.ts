import type { RemindRepeat } from '../policy/remind-repeat.js';
import type { EnforcementMode } from '../policy/enforcement-mode.js';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { resolveGroup, type Group } from './groups.js';
import { announceChange, catchUpBeforeChange } from './lifecycle.js';
import { licenseSettingsOf, type LicenseSettingsColumns } from './license-row.js';
import type { QueuedEvent } from './outbox.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { settingsColumns, settingsForDisplay, validateLicenseSettings, type LicenseSettings } from './license-values.js';

export type { LicenseSettings } from './license-values.js';

export interface LicenseState extends LicenseSettings {
  readonly groupId: number;
  readonly group: string;
  readonly numbersUsed: number;
  readonly appsUsed: number;
  readonly revision: number;
  readonly updatedAt: number;
  /** How often the expiry reminder repeats (kept apart from the settings the policy enforces). */
  readonly remindRepeat: RemindRepeat;
  /** The project's enforcement mode; null: the sidecar's policy.mode. */
  readonly enforcement: EnforcementMode | null;
}

/** Fields to change; absent fields keep their current value (`enforcement: null` returns to policy.mode). */
export type LicenseChange = Partial<LicenseSettings> & {
  readonly remindRepeat?: RemindRepeat;
  readonly enforcement?: EnforcementMode | null;
};

interface LicenseRaw extends LicenseSettingsColumns {
  numbers_used: number;
  apps_used: number;
  revision: number;
  updated_at: number;
  enforcement: EnforcementMode | null;
}

export function getLicenses(db: Db, rootId: number): LicenseState | undefined {
  const r = statement<[number], LicenseRaw>(
    db,
    'SELECT l.*, g.name FROM licenses l JOIN groups g ON g.id = l.group_id WHERE l.group_id = ?',
  ).get(rootId);
  if (!r) return undefined;
  return {
    ...licenseSettingsOf(r),
    numbersUsed: r.numbers_used,
    appsUsed: r.apps_used,
    revision: r.revision,
    updatedAt: r.updated_at,
    enforcement: r.enforcement,
  };
}

/** The group called `name` if it is a root group: only root groups have a Licences section. */
export function resolveRootGroup(db: Db, field: string, name: string): Outcome<Group> {
  const g = resolveGroup(db, field, name);
  if (!g.ok || g.value.parentId === null) return g;
  const root = statement<[number], { name: string }>(db, 'SELECT name FROM groups WHERE id = ?').get(g.value.rootId);
  return fail(
    'invalid',
    field,
    `group '${name}' is not a root group; licences are set on the root group of its tree ('${root?.name ?? '?'}')`,
  );
}

/** A personal license above the group's limit breaks an invariant (DESIGN.md §1). */
export function checkPersonalLicensesWithin(db: Db, rootId: number, s: LicenseSettings): Failure | null {
  const numbers = statement<[number, number], { login: string; cap: number }>(
    db,
    'SELECT login, personal_numbers AS cap FROM users WHERE root_id = ? AND personal_numbers > ? ORDER BY id LIMIT 1',
  ).get(rootId, s.virtualNumbers);
  if (numbers) {
    return fail(
      'invalid',
      'virtualNumbers',
      `user '${numbers.login}' has a personal license of ${numbers.cap} virtual numbers, above the new limit ${s.virtualNumbers}; lower it first ('sipwarden user licenses ${numbers.login} --numbers N')`,
    ).failure;
  }
  const apps = statement<[number, number], { login: string; cap: number }>(
    db,
    'SELECT login, personal_apps AS cap FROM users WHERE root_id = ? AND personal_apps > ? ORDER BY id LIMIT 1',
  ).get(rootId, s.mobileApps);
  if (apps) {
    return fail(
      'invalid',
      'mobileApps',
      `user '${apps.login}' has a personal license of ${apps.cap} mobile apps, above the new limit ${s.mobileApps}; lower it first ('sipwarden user licenses ${apps.login} --apps N')`,
    ).failure;
  }
  return null;
}

export function settingsOf(state: LicenseSettings): LicenseSettings {
  return {
    restrictions: state.restrictions,
    virtualNumbers: state.virtualNumbers,
    mobileApps: state.mobileApps,
    validity: state.validity,
    validFrom: state.validFrom,
    validUntil: state.validUntil,
    remindDays: state.remindDays,
  };
}

export interface LicenseUpdate {
  readonly group: string;
  readonly before: LicenseSettings;
  readonly after: LicenseSettings;
  readonly remindRepeat: { readonly before: RemindRepeat; readonly after: RemindRepeat };
  readonly enforcement: { readonly before: EnforcementMode | null; readonly after: EnforcementMode | null };
  /** Lifecycle events written to the outbox in the same transaction (renewed, expired, limits-changed). */
  readonly events: readonly QueuedEvent[];
}

/**
 * Changes the Licences section of a root group. The new values are merged with the current ones
 * and validated together. Lowering a limit below what is used deletes nothing (DESIGN.md §1).
 * The lifecycle events the change causes go to the outbox in the same transaction (DESIGN.md §3).
 */
export function setLicenses(db: Db, groupName: string, change: LicenseChange, ctx: ChangeContext): Outcome<LicenseUpdate> {
  return db
    .transaction((): Outcome<LicenseUpdate> => {
      const group = resolveRootGroup(db, 'group', groupName);
      if (!group.ok) return group;
      const current = getLicenses(db, group.value.id);
      if (!current) throw new Error(`root group '${groupName}' has no Licences row`);
      const before = settingsOf(current);
      const { remindRepeat, enforcement: mode, ...settings } = change;
      const after: LicenseSettings = { ...before, ...definedOnly(settings) };
      const bad = validateLicenseSettings(after) ?? checkPersonalLicensesWithin(db, group.value.id, after);
      if (bad) return { ok: false, failure: bad };
      const repeat = { before: current.remindRepeat, after: remindRepeat ?? current.remindRepeat };
      const enforcement = { before: current.enforcement, after: mode === undefined ? current.enforcement : mode };
      const events = catchUpBeforeChange(db, group.value.id, ctx);
      statement(
        db,
        `UPDATE licenses SET restrictions = ?, virtual_numbers = ?, mobile_apps = ?, validity = ?,
           valid_from = ?, valid_until = ?, remind_days = ?, updated_at = ? WHERE group_id = ?`,
      ).run(...settingsColumns(after), ctx.now, group.value.id);
      if (repeat.after !== repeat.before) {
        statement(db, 'UPDATE licenses SET remind_repeat = ? WHERE group_id = ?').run(repeat.after, group.value.id);
      }
      if (enforcement.after !== enforcement.before) {
        statement(db, 'UPDATE licenses SET enforcement = ? WHERE group_id = ?').run(enforcement.after, group.value.id);
      }
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'licenses.set',
        outcome: 'ok',
        rootGroup: groupName,
        target: groupName,
        // The mode only once a project has one, so audit lines of projects that never had one stay as they were.
        oldValue: { ...settingsForDisplay(before), remindRepeat: repeat.before, ...modeForAudit(enforcement, 'before') },
        newValue: { ...settingsForDisplay(after), remindRepeat: repeat.after, ...modeForAudit(enforcement, 'after') },
      });
      events.push(...announceChange(db, group.value.id, { ...before, remindRepeat: repeat.before }, ctx));
      return succeed({ group: groupName, before, after, remindRepeat: repeat, enforcement, events });
    })
    .immediate();
}

function modeForAudit(
  e: { readonly before: EnforcementMode | null; readonly after: EnforcementMode | null },
  side: 'before' | 'after',
): { enforcement?: EnforcementMode | null } {
  return e.before === null && e.after === null ? {} : { enforcement: e[side] };
}

function definedOnly(change: LicenseChange): LicenseChange {
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as LicenseChange;
}
