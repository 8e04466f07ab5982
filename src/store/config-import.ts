import type { RemindRepeat } from '../policy/remind-repeat.js';
import type { EnforcementMode } from '../policy/enforcement-mode.js';
import type { ChangeContext } from './change-context.js';
import type { ConfigDocument, ConfigOperator } from './config-document.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { findGroup } from './groups.js';
import { parseIsoTime } from '../shared/iso-time.js';
import { settingsForDisplay, validateLicenseSettings, type LicenseSettings } from './license-settings.js';
import { findNumber } from './numbers.js';
import { normalizeNumber } from '../policy/normalize-number.js';
import {
  ALL_PERMISSIONS,
  findOperator,
  hashToken,
  isPermission,
  listOperators,
  newToken,
  type Permission,
} from './operators.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { findUser } from './users.js';
import { checkGroupName, checkLogin, checkNumber } from './validation.js';

/*
 * `sipwarden import`: adds whole trees from a configuration document, all or nothing. Everything
 * is validated against the file and the database before the first write, inside one
 * `BEGIN IMMEDIATE` transaction, so that a refused import writes nothing and no concurrent
 * writer can slip in between the checks and the writes.
 */

export interface OperatorPlan {
  /** Operators of the file that do not exist yet: created with a new token each. */
  readonly create: readonly ConfigOperator[];
  /** Existing operators whose permissions differ from the file's: set to the file's. */
  readonly update: readonly { readonly name: string; readonly before: readonly Permission[]; readonly after: Permission[] }[];
}

export interface ImportSummary {
  readonly groups: number;
  readonly users: number;
  readonly numbers: number;
  /** New operators and their tokens, shown once. */
  readonly operatorsCreated: readonly { readonly name: string; readonly token: string }[];
  readonly operatorsUpdated: readonly string[];
}

export interface ImportOptions {
  /** Whether the importing operator holds operators:edit; without it the file must not change operators. */
  readonly allowOperatorChanges: boolean;
}

function sortedPermissions(permissions: readonly string[]): Permission[] {
  return [...new Set(permissions.filter(isPermission))].sort();
}

/** What importing `doc` would do to operators (existing operators not in the file are left alone). */
export function planOperatorImport(db: Db, doc: ConfigDocument): OperatorPlan {
  const create: ConfigOperator[] = [];
  const update: { name: string; before: readonly Permission[]; after: Permission[] }[] = [];
  for (const op of doc.operators ?? []) {
    const existing = findOperator(db, op.name);
    const after = sortedPermissions(op.permissions);
    if (!existing) create.push(op);
    else if (existing.permissions.join(',') !== after.join(',')) update.push({ name: op.name, before: existing.permissions, after });
  }
  return { create, update };
}

function invalid(field: string, message: string): Failure {
  return fail('invalid', field, message).failure;
}

interface PlannedGroup {
  readonly name: string;
  readonly parent: string | null;
  readonly root: string;
  readonly createdAt: number;
  readonly licenses: LicenseSettings | null;
  readonly remindRepeat: RemindRepeat;
  readonly enforcement: EnforcementMode | null;
}

interface Plan {
  readonly groups: PlannedGroup[];
  readonly rootOf: Map<string, string>;
  readonly licensesOf: Map<string, LicenseSettings>;
}

const DEFAULT_LICENSES: LicenseSettings = {
  restrictions: false,
  virtualNumbers: 0,
  mobileApps: 0,
  validity: false,
  validFrom: null,
  validUntil: null,
  remindDays: null,
};

function time(text: string): number {
  const ms = parseIsoTime(text);
  // The schema has already refused unparseable times.
  if (ms === null) throw new Error(`unparseable time '${text}' passed the schema`);
  return ms;
}

function planGroups(db: Db, doc: ConfigDocument): Plan | Failure {
  const groups: PlannedGroup[] = [];
  const rootOf = new Map<string, string>();
  const licensesOf = new Map<string, LicenseSettings>();
  for (const [i, g] of doc.groups.entries()) {
    const at = `groups[${i}]`;
    const bad = checkGroupName(`${at}.name`, g.name);
    if (bad) return bad;
    if (rootOf.has(g.name)) return invalid(`${at}.name`, `group '${g.name}' appears twice in the file; expected unique names`);
    if (findGroup(db, g.name)) {
      return fail('conflict', `${at}.name`, `group '${g.name}' already exists in the database; import adds new trees only`).failure;
    }
    let root = g.name;
    if (g.parent !== null) {
      const parentRoot = rootOf.get(g.parent);
      if (parentRoot === undefined) {
        return invalid(
          `${at}.parent`,
          `parent '${g.parent}' is not a group earlier in the file; expected every tree complete, parents before children`,
        );
      }
      root = parentRoot;
      if (g.licenses !== undefined) {
        return invalid(`${at}.licenses`, `group '${g.name}' is not a root group; licences exist only on root groups`);
      }
    }
    let licenses: LicenseSettings | null = null;
    if (g.parent === null) {
      const l = g.licenses;
      licenses = l
        ? {
            ...l,
            validFrom: l.validFrom === null ? null : time(l.validFrom),
            validUntil: l.validUntil === null ? null : time(l.validUntil),
          }
        : DEFAULT_LICENSES;
      const badLicense = validateLicenseSettings(licenses);
      if (badLicense) return { ...badLicense, field: `${at}.licenses.${badLicense.field}` };
      licensesOf.set(g.name, licenses);
    }
    rootOf.set(g.name, root);
    const remindRepeat = g.licenses?.remindRepeat ?? 'once';
    const enforcement = g.licenses?.enforcement ?? null;
    groups.push({ name: g.name, parent: g.parent, root, createdAt: time(g.createdAt), licenses, remindRepeat, enforcement });
  }
  return { groups, rootOf, licensesOf };
}

function checkUsersAndNumbers(db: Db, doc: ConfigDocument, plan: Plan): Failure | null {
  const rootOfUser = new Map<string, string>();
  const capOfUser = new Map<string, { numbers: number | null }>();
  for (const [i, u] of doc.users.entries()) {
    const at = `users[${i}]`;
    const bad = checkLogin(`${at}.login`, u.login);
    if (bad) return bad;
    if (rootOfUser.has(u.login)) return invalid(`${at}.login`, `user '${u.login}' appears twice in the file; expected unique logins`);
    if (findUser(db, u.login)) {
      return fail('conflict', `${at}.login`, `user '${u.login}' already exists in the database; import adds new users only`).failure;
    }
    const root = plan.rootOf.get(u.group);
    if (root === undefined) return invalid(`${at}.group`, `group '${u.group}' is not a group of the file`);
    const group = plan.licensesOf.get(root) ?? DEFAULT_LICENSES;
    if (u.personalNumbers !== null && u.personalNumbers > group.virtualNumbers) {
      return invalid(
        `${at}.personalNumbers`,
        `a personal license of ${u.personalNumbers} virtual numbers is above the limit of root group '${root}' (${group.virtualNumbers})`,
      );
    }
    if (u.personalApps !== null && u.personalApps > group.mobileApps) {
      return invalid(
        `${at}.personalApps`,
        `a personal license of ${u.personalApps} mobile apps is above the limit of root group '${root}' (${group.mobileApps})`,
      );
    }
    rootOfUser.set(u.login, root);
    capOfUser.set(u.login, { numbers: u.personalNumbers });
  }
  const seen = new Set<string>();
  const perRoot = new Map<string, number>();
  const perUser = new Map<string, number>();
  for (const [i, n] of doc.numbers.entries()) {
    const at = `numbers[${i}]`;
    const bad = checkNumber(`${at}.number`, n.number);
    if (bad) return bad;
    const number = normalizeNumber(n.number);
    if (seen.has(number)) {
      return invalid(`${at}.number`, `number '${n.number}' appears twice in the file (numbers are matched without regard to case); expected unique numbers`);
    }
    if (findNumber(db, number)) {
      return fail('conflict', `${at}.number`, `number '${n.number}' already exists in the database`).failure;
    }
    const root = rootOfUser.get(n.user);
    if (root === undefined) return invalid(`${at}.user`, `user '${n.user}' is not a user of the file`);
    seen.add(number);
    perRoot.set(root, (perRoot.get(root) ?? 0) + 1);
    perUser.set(n.user, (perUser.get(n.user) ?? 0) + 1);
  }
  // Limits, as `number add` would enforce them one by one (only while restrictions are on).
  for (const [root, count] of perRoot) {
    const l = plan.licensesOf.get(root) ?? DEFAULT_LICENSES;
    if (l.restrictions && count > l.virtualNumbers) {
      return fail(
        'limit',
        'numbers',
        `root group '${root}' would have ${count} virtual numbers, above its limit of ${l.virtualNumbers}; raise virtualNumbers in the file or remove numbers`,
      ).failure;
    }
  }
  for (const [login, count] of perUser) {
    const cap = capOfUser.get(login)?.numbers ?? null;
    const root = rootOfUser.get(login) ?? '';
    const l = plan.licensesOf.get(root) ?? DEFAULT_LICENSES;
    if (l.restrictions && cap !== null && count > cap) {
      return fail(
        'limit',
        'numbers',
        `user '${login}' would have ${count} virtual numbers, above their personal license of ${cap}; raise personalNumbers in the file or remove numbers`,
      ).failure;
    }
  }
  return null;
}

function checkOperators(db: Db, doc: ConfigDocument, plan: OperatorPlan): Failure | null {
  const seen = new Set<string>();
  for (const [i, op] of (doc.operators ?? []).entries()) {
    const at = `operators[${i}]`;
    const bad = checkLogin(`${at}.name`, op.name);
    if (bad) return bad;
    if (seen.has(op.name)) return invalid(`${at}.name`, `operator '${op.name}' appears twice in the file; expected unique names`);
    seen.add(op.name);
    const unknown = op.permissions.find((p) => !isPermission(p));
    if (unknown !== undefined) {
      return invalid(`${at}.permissions`, `'${unknown}' is not a permission; expected one of ${ALL_PERMISSIONS.join(', ')}`);
    }
  }
  // After the import, someone must still be able to manage operators.
  const after = new Map(listOperators(db).map((o) => [o.name, [...o.permissions] as readonly string[]]));
  for (const op of plan.create) after.set(op.name, op.permissions);
  for (const op of plan.update) after.set(op.name, op.after);
  if (![...after.values()].some((p) => p.includes('operators:edit'))) {
    return invalid('operators', 'the import would leave no operator with operators:edit; expected at least one');
  }
  return null;
}

function writeGroups(db: Db, plan: Plan, ctx: ChangeContext): void {
  const ids = new Map<string, { id: number; rootId: number }>();
  for (const g of plan.groups) {
    if (g.parent === null) {
      const id = statement<[], { next: number }>(db, 'SELECT IFNULL(MAX(id), 0) + 1 AS next FROM groups').get()?.next ?? 1;
      statement(db, 'INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, NULL, ?, ?)').run(
        id,
        g.name,
        id,
        g.createdAt,
      );
      const l = g.licenses ?? DEFAULT_LICENSES;
      statement(
        db,
        `INSERT INTO licenses (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until,
                               remind_days, remind_repeat, enforcement, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        l.restrictions ? 1 : 0,
        l.virtualNumbers,
        l.mobileApps,
        l.validity ? 1 : 0,
        l.validFrom,
        l.validUntil,
        l.remindDays,
        g.remindRepeat,
        g.enforcement,
        ctx.now,
      );
      ids.set(g.name, { id, rootId: id });
    } else {
      const parent = ids.get(g.parent);
      if (!parent) throw new Error(`parent '${g.parent}' was not written before '${g.name}'`);
      const info = statement(db, 'INSERT INTO groups (name, parent_id, root_id, created_at) VALUES (?, ?, ?, ?)').run(
        g.name,
        parent.id,
        parent.rootId,
        g.createdAt,
      );
      ids.set(g.name, { id: Number(info.lastInsertRowid), rootId: parent.rootId });
    }
  }
}

function writeUsersAndNumbers(db: Db, doc: ConfigDocument): void {
  const insertUser = statement(
    db,
    `INSERT INTO users (login, group_id, root_id, personal_numbers, personal_apps, created_at)
     SELECT ?, id, root_id, ?, ?, ? FROM groups WHERE name = ?`,
  );
  for (const u of doc.users) insertUser.run(u.login, u.personalNumbers, u.personalApps, time(u.createdAt), u.group);
  const insertNumber = statement(
    db,
    'INSERT INTO numbers (number, user_id, root_id, created_at) SELECT ?, id, root_id, ? FROM users WHERE login = ?',
  );
  for (const n of doc.numbers) insertNumber.run(normalizeNumber(n.number), time(n.createdAt), n.user);
}

function writeOperators(db: Db, plan: OperatorPlan, ctx: ChangeContext): { name: string; token: string }[] {
  const created: { name: string; token: string }[] = [];
  const grant = statement(db, 'INSERT INTO operator_permissions (operator_id, permission) VALUES (?, ?)');
  for (const op of plan.create) {
    const token = newToken();
    const info = statement(db, 'INSERT INTO operators (name, token_hash, created_at) VALUES (?, ?, ?)').run(
      op.name,
      hashToken(token),
      ctx.now,
    );
    const permissions = sortedPermissions(op.permissions);
    for (const p of permissions) grant.run(Number(info.lastInsertRowid), p);
    created.push({ name: op.name, token });
    appendAudit(db, {
      at: ctx.now,
      operator: ctx.operator,
      action: 'import.operator',
      outcome: 'ok',
      rootGroup: null,
      target: op.name,
      newValue: { name: op.name, permissions },
    });
  }
  for (const op of plan.update) {
    const id = findOperator(db, op.name)?.id;
    if (id === undefined) throw new Error(`operator '${op.name}' vanished during import`);
    statement(db, 'DELETE FROM operator_permissions WHERE operator_id = ?').run(id);
    for (const p of op.after) grant.run(id, p);
    appendAudit(db, {
      at: ctx.now,
      operator: ctx.operator,
      action: 'import.operator',
      outcome: 'ok',
      rootGroup: null,
      target: op.name,
      oldValue: { permissions: op.before },
      newValue: { permissions: op.after },
    });
  }
  return created;
}

/** Imports `doc` (already shaped by the schema) all or nothing. */
export function importConfig(db: Db, doc: ConfigDocument, ctx: ChangeContext, options: ImportOptions): Outcome<ImportSummary> {
  return db
    .transaction((): Outcome<ImportSummary> => {
      const plan = planGroups(db, doc);
      if (!('groups' in plan)) return { ok: false, failure: plan };
      const badEntries = checkUsersAndNumbers(db, doc, plan);
      if (badEntries) return { ok: false, failure: badEntries };
      const operatorPlan = planOperatorImport(db, doc);
      const badOperators = checkOperators(db, doc, operatorPlan);
      if (badOperators) return { ok: false, failure: badOperators };
      if (!options.allowOperatorChanges && (operatorPlan.create.length > 0 || operatorPlan.update.length > 0)) {
        return fail(
          'conflict',
          'operators',
          'the operators changed while importing and would now be modified; run the import again',
        );
      }
      writeGroups(db, plan, ctx);
      writeUsersAndNumbers(db, doc);
      const operatorsCreated = writeOperators(db, operatorPlan, ctx);
      const rootOfUser = new Map(doc.users.map((u) => [u.login, plan.rootOf.get(u.group)]));
      for (const g of plan.groups) {
        if (g.parent !== null) continue;
        appendAudit(db, {
          at: ctx.now,
          operator: ctx.operator,
          action: 'import',
          outcome: 'ok',
          rootGroup: g.name,
          target: g.name,
          newValue: {
            groups: plan.groups.filter((p) => p.root === g.name).map((p) => p.name),
            users: doc.users.filter((u) => plan.rootOf.get(u.group) === g.name).length,
            numbers: doc.numbers.filter((n) => rootOfUser.get(n.user) === g.name).length,
            licenses: settingsForDisplay(g.licenses ?? DEFAULT_LICENSES),
          },
        });
      }
      return succeed({
        groups: plan.groups.length,
        users: doc.users.length,
        numbers: doc.numbers.length,
        operatorsCreated,
        operatorsUpdated: operatorPlan.update.map((u) => u.name),
      });
    })
    .immediate();
}
