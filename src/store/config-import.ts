import type { ChangeContext } from './change-context.js';
import type { ConfigDocument, ConfigLicenses, ConfigOperator, ConfigUser } from './config-document.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { addGroup, findGroup, type NewLicenses } from './groups.js';
import { parseIsoTime } from '../shared/iso-time.js';
import { getLicenses, settingsOf } from './license-settings.js';
import { settingsForDisplay } from './license-values.js';
import { addNumber } from './numbers.js';
import { normalizeNumber } from '../policy/normalize-number.js';
import {
  addOperator,
  changePermissions,
  checkPermissions,
  findOperator,
  isPermission,
  listOperators,
  type Permission,
} from './operators.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { addUser } from './users.js';

/*
 * `sipwarden import`: adds whole trees from a configuration document, all or nothing, through the
 * repositories inside one `BEGIN IMMEDIATE` transaction: a refused entry rolls back every write
 * before it, so a refused import writes nothing.
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

/** A refusal of one entry of the file, with the entry's path in front of the field. */
function within(at: string, failure: Failure, field = `${at}.${failure.field}`): Failure {
  return { ...failure, field };
}

/**
 * Carries a refusal out of the transaction: better-sqlite3 rolls a transaction back only when its
 * function throws, and an import refused at its last entry must leave nothing of the first ones.
 * Caught in importConfig and returned as a value.
 */
class Refused extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

function must<T>(outcome: Outcome<T>, at: string, field?: string): T {
  if (!outcome.ok) throw new Refused(within(at, outcome.failure, field));
  return outcome.value;
}

function refuse(failure: Failure): never {
  throw new Refused(failure);
}

function time(text: string): number {
  const ms = parseIsoTime(text);
  // The schema has already refused unparseable times.
  if (ms === null) throw new Error(`unparseable time '${text}' passed the schema`);
  return ms;
}

function licensesOf(l: ConfigLicenses): NewLicenses {
  return {
    ...l,
    validFrom: l.validFrom === null ? null : time(l.validFrom),
    validUntil: l.validUntil === null ? null : time(l.validUntil),
    remindRepeat: l.remindRepeat ?? 'once',
    enforcement: l.enforcement ?? null,
  };
}

/*
 * The import checks only what belongs to the file as a whole: names unique in it, whole trees
 * (parents before children), entries that name entries of the file, the operators left able to
 * manage operators. Each entry is then validated and written by its repository (addGroup, addUser,
 * addNumber, addOperator, changePermissions), with its audit entry, as the CLI commands do.
 */

/** Adds the file's groups, each tree's root with its Licences section; returns each group's root. */
function importGroups(db: Db, doc: ConfigDocument, ctx: ChangeContext): Map<string, string> {
  const rootOf = new Map<string, string>();
  for (const [i, g] of doc.groups.entries()) {
    const at = `groups[${i}]`;
    if (rootOf.has(g.name)) refuse(invalid(`${at}.name`, `group '${g.name}' appears twice in the file; expected unique names`));
    if (findGroup(db, g.name)) {
      refuse(fail('conflict', `${at}.name`, `group '${g.name}' already exists in the database; import adds new trees only`).failure);
    }
    const root = g.parent === null ? g.name : rootOf.get(g.parent);
    if (root === undefined) {
      refuse(invalid(`${at}.parent`, `parent '${g.parent}' is not a group earlier in the file; expected every tree complete, parents before children`));
    }
    const licenses = g.licenses === undefined ? {} : { licenses: licensesOf(g.licenses) };
    must(addGroup(db, { name: g.name, parent: g.parent, createdAt: time(g.createdAt), ...licenses }, ctx), at);
    rootOf.set(g.name, root);
  }
  return rootOf;
}

function importUsers(db: Db, doc: ConfigDocument, rootOf: ReadonlyMap<string, string>, ctx: ChangeContext): void {
  const seen = new Set<string>();
  for (const [i, u] of doc.users.entries()) {
    const at = `users[${i}]`;
    if (seen.has(u.login)) refuse(invalid(`${at}.login`, `user '${u.login}' appears twice in the file; expected unique logins`));
    if (!rootOf.has(u.group)) refuse(invalid(`${at}.group`, `group '${u.group}' is not a group of the file`));
    seen.add(u.login);
    const { createdAt, ...user } = u;
    must(addUser(db, { ...user, createdAt: time(createdAt) }, ctx), at);
  }
}

function importNumbers(db: Db, doc: ConfigDocument, rootOf: ReadonlyMap<string, string>, ctx: ChangeContext): void {
  const users = new Map(doc.users.map((u) => [u.login, u]));
  const seen = new Set<string>();
  for (const [i, n] of doc.numbers.entries()) {
    const at = `numbers[${i}]`;
    const number = normalizeNumber(n.number);
    if (seen.has(number)) {
      refuse(invalid(`${at}.number`, `number '${n.number}' appears twice in the file (numbers are matched without regard to case); expected unique numbers`));
    }
    const user = users.get(n.user);
    if (user === undefined) refuse(invalid(`${at}.user`, `user '${n.user}' is not a user of the file`));
    seen.add(number);
    const added = addNumber(db, { number: n.number, login: n.user, createdAt: time(n.createdAt) }, ctx);
    if (!added.ok && added.failure.kind === 'limit') refuse(limitOfFile(db, doc, user, rootOf));
    must(added, at);
  }
}

/** A limit refusal said of the whole file: how many numbers it gives the tree or the user. */
function limitOfFile(db: Db, doc: ConfigDocument, user: ConfigUser, rootOf: ReadonlyMap<string, string>): Failure {
  const root = rootOf.get(user.group) ?? user.group;
  const rootId = findGroup(db, root)?.id;
  const limit = rootId === undefined ? undefined : getLicenses(db, rootId)?.virtualNumbers;
  const inTree = new Set(doc.users.filter((u) => rootOf.get(u.group) === root).map((u) => u.login));
  const treeCount = doc.numbers.filter((n) => inTree.has(n.user)).length;
  if (limit !== undefined && treeCount > limit) {
    return fail(
      'limit',
      'numbers',
      `root group '${root}' would have ${treeCount} virtual numbers, above its limit of ${limit}; raise virtualNumbers in the file or remove numbers`,
    ).failure;
  }
  const count = doc.numbers.filter((n) => n.user === user.login).length;
  return fail(
    'limit',
    'numbers',
    `user '${user.login}' would have ${count} virtual numbers, above their personal license of ${user.personalNumbers ?? '?'}; raise personalNumbers in the file or remove numbers`,
  ).failure;
}

function importOperators(db: Db, doc: ConfigDocument, plan: OperatorPlan, ctx: ChangeContext): { name: string; token: string }[] {
  const seen = new Set<string>();
  for (const [i, op] of (doc.operators ?? []).entries()) {
    if (seen.has(op.name)) refuse(invalid(`operators[${i}].name`, `operator '${op.name}' appears twice in the file; expected unique names`));
    seen.add(op.name);
  }
  // After the import, someone must still be able to manage operators.
  const after = new Map(listOperators(db).map((o) => [o.name, [...o.permissions] as readonly string[]]));
  for (const op of plan.create) after.set(op.name, op.permissions);
  for (const op of plan.update) after.set(op.name, op.after);
  if (![...after.values()].some((p) => p.includes('operators:edit'))) {
    refuse(invalid('operators', 'the import would leave no operator with operators:edit; expected at least one'));
  }
  const index = new Map((doc.operators ?? []).map((op, i) => [op.name, `operators[${i}]`]));
  const at = (name: string): string => index.get(name) ?? 'operators';
  const created = plan.create.map((op) => ({ name: op.name, token: must(addOperator(db, op, ctx), at(op.name)).token }));
  // Grants before revocations: a revocation is refused while it would leave nobody with operators:edit.
  for (const grant of [true, false]) {
    for (const op of plan.update) {
      const change = grant ? op.after.filter((p) => !op.before.includes(p)) : op.before.filter((p) => !op.after.includes(p));
      if (change.length === 0) continue;
      must(changePermissions(db, op.name, change, grant, ctx), at(op.name));
    }
  }
  return created;
}

/**
 * Imports `doc` (already shaped by the schema) all or nothing, inside one `BEGIN IMMEDIATE`
 * transaction: no concurrent writer slips in between the checks and the writes.
 */
export function importConfig(db: Db, doc: ConfigDocument, ctx: ChangeContext, options: ImportOptions): Outcome<ImportSummary> {
  try {
    return db
      .transaction((): Outcome<ImportSummary> => {
        const operatorPlan = planOperatorImport(db, doc);
        if (!options.allowOperatorChanges && (operatorPlan.create.length > 0 || operatorPlan.update.length > 0)) {
          return fail('conflict', 'operators', 'the operators changed while importing and would now be modified; run the import again');
        }
        // Before planning drops them: an unknown permission is refused, never left out.
        for (const [i, op] of (doc.operators ?? []).entries()) {
          const bad = checkPermissions(op.permissions);
          if (bad) refuse(within(`operators[${i}]`, bad.failure, `operators[${i}].permissions`));
        }
        const rootOf = importGroups(db, doc, ctx);
        importUsers(db, doc, rootOf, ctx);
        importNumbers(db, doc, rootOf, ctx);
        const operatorsCreated = importOperators(db, doc, operatorPlan, ctx);
        auditTrees(db, doc, rootOf, ctx);
        return succeed({
          groups: doc.groups.length,
          users: doc.users.length,
          numbers: doc.numbers.length,
          operatorsCreated,
          operatorsUpdated: operatorPlan.update.map((u) => u.name),
        });
      })
      .immediate();
  } catch (err) {
    if (err instanceof Refused) return { ok: false, failure: err.failure };
    throw err;
  }
}

/** One `import` audit entry per tree, beside the entries of its rows: what the file brought. */
function auditTrees(db: Db, doc: ConfigDocument, rootOf: ReadonlyMap<string, string>, ctx: ChangeContext): void {
  const rootOfUser = new Map(doc.users.map((u) => [u.login, rootOf.get(u.group)]));
  for (const g of doc.groups) {
    if (g.parent !== null) continue;
    const group = findGroup(db, g.name);
    const licenses = group && getLicenses(db, group.id);
    appendAudit(db, {
      at: ctx.now,
      operator: ctx.operator,
      action: 'import',
      outcome: 'ok',
      rootGroup: g.name,
      target: g.name,
      newValue: {
        groups: doc.groups.filter((p) => rootOf.get(p.name) === g.name).map((p) => p.name),
        users: doc.users.filter((u) => rootOf.get(u.group) === g.name).length,
        numbers: doc.numbers.filter((n) => rootOfUser.get(n.user) === g.name).length,
        licenses: licenses ? settingsForDisplay(settingsOf(licenses)) : null,
      },
    });
  }
}
