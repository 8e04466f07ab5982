import type { EnforcementMode } from '../policy/enforcement-mode.js';
import type { LicenseSection } from '../policy/license-section.js';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { settingsColumns, settingsForDisplay, validateLicenseSettings } from './license-values.js';
import { fail, succeed, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { checkGroupName } from './validation.js';

/** A group of a tree; a root group (no parent) stands for one project and holds the Licences section. */
export interface Group {
  readonly id: number;
  readonly name: string;
  readonly parentId: number | null;
  readonly rootId: number;
  readonly createdAt: number;
}

export interface GroupSummary extends Group {
  readonly parent: string | null;
  readonly root: string;
  /** Direct subgroups and direct members. */
  readonly subgroups: number;
  readonly users: number;
}

/** A group row as a `Group`: the columns renamed by their aliases, nothing to convert. */
const GROUP_COLUMNS = 'g.id, g.name, g.parent_id AS parentId, g.root_id AS rootId, g.created_at AS createdAt';

export function findGroup(db: Db, name: string): Group | undefined {
  return statement<[string], Group>(db, `SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.name = ?`).get(name);
}

export function findGroupById(db: Db, id: number): Group | undefined {
  return statement<[number], Group>(db, `SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = ?`).get(id);
}

/** The group called `name`, or a not-found failure naming `field`. */
export function resolveGroup(db: Db, field: string, name: string): Outcome<Group> {
  const g = findGroup(db, name);
  return g ? succeed(g) : fail('not-found', field, `group '${name}' does not exist; see 'sipwarden group list'`);
}

/** Name of the root group of `name`'s tree; undefined when the group does not exist. */
export function rootGroupName(db: Db, name: string): string | undefined {
  return statement<[string], { name: string }>(
    db,
    'SELECT r.name FROM groups g JOIN groups r ON r.id = g.root_id WHERE g.name = ?',
  ).get(name)?.name;
}

/**
 * SQL for the ids of a group and all its descendants: `WITH RECURSIVE subtree(id) AS (…)`,
 * parameterised by the named parameter `@subtree` (the group's id; null gives no rows).
 */
export const SUBTREE_CTE = `WITH RECURSIVE subtree(id) AS (
  SELECT @subtree WHERE @subtree IS NOT NULL UNION ALL SELECT g.id FROM groups g JOIN subtree s ON g.parent_id = s.id
)`;

export interface AddGroupInput {
  readonly name: string;
  /** Parent group name; null or absent creates a root group (a project) with its Licences section. */
  readonly parent?: string | null;
  /** A root group's Licences section; absent: restrictions off. Refused on a subgroup. */
  readonly licenses?: NewLicenses;
  /** When the group was made; default `ctx.now` (an import keeps the file's times). */
  readonly createdAt?: number;
}

/** A whole Licences section, as a new root group gets it from an import. */
export type NewLicenses = LicenseSection & { readonly enforcement: EnforcementMode | null };

/** Creates a group; a root group gets its Licences section (`input.licenses`, or restrictions off). */
export function addGroup(db: Db, input: AddGroupInput, ctx: ChangeContext): Outcome<Group> {
  const bad = checkGroupName('name', input.name);
  if (bad) return { ok: false, failure: bad };
  const licenses = input.licenses;
  const isRoot = input.parent === undefined || input.parent === null;
  if (licenses !== undefined) {
    if (!isRoot) {
      return fail('invalid', 'licenses', `group '${input.name}' is not a root group; licences exist only on root groups`);
    }
    const badLicense = validateLicenseSettings(licenses);
    if (badLicense) return { ok: false, failure: { ...badLicense, field: `licenses.${badLicense.field}` } };
  }
  const createdAt = input.createdAt ?? ctx.now;
  return db
    .transaction((): Outcome<Group> => {
      if (findGroup(db, input.name)) {
        return fail('conflict', 'name', `group '${input.name}' already exists; expected a new name`);
      }
      let group: Group;
      let rootName: string;
      if (input.parent === undefined || input.parent === null) {
        // A root group is its own root: take the next id explicitly so root_id can name it.
        const id = statement<[], { next: number }>(db, 'SELECT IFNULL(MAX(id), 0) + 1 AS next FROM groups').get()?.next ?? 1;
        statement(db, 'INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, NULL, ?, ?)').run(
          id,
          input.name,
          id,
          createdAt,
        );
        if (licenses === undefined) statement(db, 'INSERT INTO licenses (group_id, updated_at) VALUES (?, ?)').run(id, ctx.now);
        else insertLicenses(db, id, licenses, ctx.now);
        group = { id, name: input.name, parentId: null, rootId: id, createdAt };
        rootName = input.name;
      } else {
        const parent = resolveGroup(db, 'parent', input.parent);
        if (!parent.ok) return parent;
        const info = statement(db, 'INSERT INTO groups (name, parent_id, root_id, created_at) VALUES (?, ?, ?, ?)').run(
          input.name,
          parent.value.id,
          parent.value.rootId,
          createdAt,
        );
        group = {
          id: Number(info.lastInsertRowid),
          name: input.name,
          parentId: parent.value.id,
          rootId: parent.value.rootId,
          createdAt,
        };
        rootName = findGroupById(db, parent.value.rootId)?.name ?? input.parent;
      }
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'group.add',
        outcome: 'ok',
        rootGroup: rootName,
        target: input.name,
        newValue: {
          name: input.name,
          parent: input.parent ?? null,
          ...(licenses === undefined ? {} : { licenses: { ...settingsForDisplay(licenses), remindRepeat: licenses.remindRepeat, enforcement: licenses.enforcement } }),
        },
      });
      return succeed(group);
    })
    .immediate();
}

function insertLicenses(db: Db, groupId: number, l: NewLicenses, now: number): void {
  statement(
    db,
    `INSERT INTO licenses (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until,
                           remind_days, remind_repeat, enforcement, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(groupId, ...settingsColumns(l), l.remindRepeat, l.enforcement, now);
}

const SUMMARY_SELECT = `SELECT ${GROUP_COLUMNS}, p.name AS parent, r.name AS root,
  (SELECT COUNT(*) FROM groups c WHERE c.parent_id = g.id) AS subgroups,
  (SELECT COUNT(*) FROM users u WHERE u.group_id = g.id) AS users
FROM groups g JOIN groups r ON r.id = g.root_id LEFT JOIN groups p ON p.id = g.parent_id`;

/** Every group, each tree together with parents before children. */
export function listGroups(db: Db): GroupSummary[] {
  return statement<[], GroupSummary>(db, `${SUMMARY_SELECT} ORDER BY g.root_id, g.id`).all();
}

export interface GroupDetails extends GroupSummary {
  /** Names from the root group down to this group. */
  readonly path: readonly string[];
  readonly children: readonly string[];
}

export function describeGroup(db: Db, name: string): GroupDetails | undefined {
  const r = statement<[string], GroupSummary>(db, `${SUMMARY_SELECT} WHERE g.name = ?`).get(name);
  if (!r) return undefined;
  const path = statement<[number], { name: string }>(
    db,
    `WITH RECURSIVE up(id, name, parent_id, depth) AS (
       SELECT id, name, parent_id, 0 FROM groups WHERE id = ?
       UNION ALL SELECT g.id, g.name, g.parent_id, up.depth + 1 FROM groups g JOIN up ON g.id = up.parent_id
     ) SELECT name FROM up ORDER BY depth DESC`,
  )
    .all(r.id)
    .map((p) => p.name);
  const children = statement<[number], { name: string }>(db, 'SELECT name FROM groups WHERE parent_id = ? ORDER BY id')
    .all(r.id)
    .map((c) => c.name);
  return { ...r, path, children };
}

/** Removes a group that has neither subgroups nor users (its Licences section goes with it). */
export function removeGroup(db: Db, name: string, ctx: ChangeContext): Outcome<Group> {
  return db
    .transaction((): Outcome<Group> => {
      const details = describeGroup(db, name);
      if (!details) return fail('not-found', 'group', `group '${name}' does not exist; see 'sipwarden group list'`);
      if (details.subgroups > 0) {
        return fail(
          'conflict',
          'group',
          `group '${name}' still has ${details.subgroups} subgroup(s) (${details.children.join(', ')}); remove them first`,
        );
      }
      if (details.users > 0) {
        return fail('conflict', 'group', `group '${name}' still has ${details.users} user(s); remove or move them first`);
      }
      statement(db, 'DELETE FROM groups WHERE id = ?').run(details.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'group.remove',
        outcome: 'ok',
        rootGroup: details.root,
        target: name,
        oldValue: { name, parent: details.parent },
      });
      const { path: _path, children: _children, subgroups: _s, users: _u, parent: _p, root: _r, ...group } = details;
      return succeed(group);
    })
    .immediate();
}
