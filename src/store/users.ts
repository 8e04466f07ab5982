import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { resolveGroup, SUBTREE_CTE } from './groups.js';
import { getLicenses } from './license-settings.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { checkLogin, checkOptionalLimit, firstFailure } from './validation.js';

/** A user of any group; everything it uses counts against its tree's root group. */
export interface User {
  readonly id: number;
  readonly login: string;
  readonly groupId: number;
  readonly rootId: number;
  readonly group: string;
  readonly root: string;
  /** Personal licenses: null = no personal cap (the group's limit still applies). */
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
  readonly numbersUsed: number;
  readonly appsUsed: number;
  readonly createdAt: number;
}

/** A user row as a `User`: the columns renamed by their aliases, nothing to convert. */
const USER_SELECT = `SELECT u.id, u.login, u.group_id AS groupId, u.root_id AS rootId, g.name AS "group", r.name AS root,
  u.personal_numbers AS personalNumbers, u.personal_apps AS personalApps, u.numbers_used AS numbersUsed,
  u.apps_used AS appsUsed, u.created_at AS createdAt
FROM users u JOIN groups g ON g.id = u.group_id JOIN groups r ON r.id = u.root_id`;

export function findUser(db: Db, login: string): User | undefined {
  return statement<[string], User>(db, `${USER_SELECT} WHERE u.login = ?`).get(login);
}

export function resolveUser(db: Db, field: string, login: string): Outcome<User> {
  const u = findUser(db, login);
  return u ? succeed(u) : fail('not-found', field, `user '${login}' does not exist; see 'sipwarden user list'`);
}

export interface PersonalLicenses {
  readonly personalNumbers: number | null;
  readonly personalApps: number | null;
}

/** A personal license can never exceed the root group's limit (DESIGN.md §1). */
export function checkPersonalLicenses(db: Db, rootId: number, p: PersonalLicenses): Failure | null {
  const bad = firstFailure(
    checkOptionalLimit('personalNumbers', p.personalNumbers),
    checkOptionalLimit('personalApps', p.personalApps),
  );
  if (bad) return bad;
  const group = getLicenses(db, rootId);
  if (!group) throw new Error(`root group ${rootId} has no Licences row`);
  if (p.personalNumbers !== null && p.personalNumbers > group.virtualNumbers) {
    return fail(
      'invalid',
      'personalNumbers',
      `a personal license of ${p.personalNumbers} virtual numbers is above the limit of root group '${group.group}' (${group.virtualNumbers}); expected at most ${group.virtualNumbers}`,
    ).failure;
  }
  if (p.personalApps !== null && p.personalApps > group.mobileApps) {
    return fail(
      'invalid',
      'personalApps',
      `a personal license of ${p.personalApps} mobile apps is above the limit of root group '${group.group}' (${group.mobileApps}); expected at most ${group.mobileApps}`,
    ).failure;
  }
  return null;
}

export interface AddUserInput {
  readonly login: string;
  readonly group: string;
  readonly personalNumbers?: number | null;
  readonly personalApps?: number | null;
  /** When the user was made; default `ctx.now` (an import keeps the file's times). */
  readonly createdAt?: number;
}

export function addUser(db: Db, input: AddUserInput, ctx: ChangeContext): Outcome<User> {
  const bad = checkLogin('login', input.login);
  if (bad) return { ok: false, failure: bad };
  return db
    .transaction((): Outcome<User> => {
      if (findUser(db, input.login)) {
        return fail('conflict', 'login', `user '${input.login}' already exists; expected a new login`);
      }
      const group = resolveGroup(db, 'group', input.group);
      if (!group.ok) return group;
      const personal: PersonalLicenses = {
        personalNumbers: input.personalNumbers ?? null,
        personalApps: input.personalApps ?? null,
      };
      const badLicense = checkPersonalLicenses(db, group.value.rootId, personal);
      if (badLicense) return { ok: false, failure: badLicense };
      statement(
        db,
        `INSERT INTO users (login, group_id, root_id, personal_numbers, personal_apps, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(input.login, group.value.id, group.value.rootId, personal.personalNumbers, personal.personalApps, input.createdAt ?? ctx.now);
      const user = findUser(db, input.login);
      if (!user) throw new Error(`user '${input.login}' vanished after insert`);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'user.add',
        outcome: 'ok',
        rootGroup: user.root,
        target: input.login,
        newValue: { login: input.login, group: input.group, ...personal },
      });
      return succeed(user);
    })
    .immediate();
}

export interface PersonalLicenseChange {
  /** A cap, null to remove the cap, undefined to keep it. */
  readonly personalNumbers?: number | null;
  readonly personalApps?: number | null;
}

export interface UserLicenseUpdate {
  readonly user: User;
  readonly before: PersonalLicenses;
  readonly after: PersonalLicenses;
}

/** Sets a user's personal licenses; lowering below what is used deletes nothing. */
export function setUserLicenses(
  db: Db,
  login: string,
  change: PersonalLicenseChange,
  ctx: ChangeContext,
): Outcome<UserLicenseUpdate> {
  return db
    .transaction((): Outcome<UserLicenseUpdate> => {
      const user = resolveUser(db, 'login', login);
      if (!user.ok) return user;
      const before: PersonalLicenses = {
        personalNumbers: user.value.personalNumbers,
        personalApps: user.value.personalApps,
      };
      const after: PersonalLicenses = {
        personalNumbers: change.personalNumbers === undefined ? before.personalNumbers : change.personalNumbers,
        personalApps: change.personalApps === undefined ? before.personalApps : change.personalApps,
      };
      const bad = checkPersonalLicenses(db, user.value.rootId, after);
      if (bad) return { ok: false, failure: bad };
      statement(db, 'UPDATE users SET personal_numbers = ?, personal_apps = ? WHERE id = ?').run(
        after.personalNumbers,
        after.personalApps,
        user.value.id,
      );
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'user.licenses',
        outcome: 'ok',
        rootGroup: user.value.root,
        target: login,
        oldValue: before,
        newValue: after,
      });
      return succeed({ user: { ...user.value, ...after }, before, after });
    })
    .immediate();
}

/** Users of a group's whole subtree (or of every group), oldest first. */
export function listUsers(db: Db, filter: { readonly group?: string } = {}): Outcome<User[]> {
  if (filter.group === undefined) {
    return succeed(statement<[], User>(db, `${USER_SELECT} ORDER BY u.id`).all());
  }
  const group = resolveGroup(db, 'group', filter.group);
  if (!group.ok) return group;
  return succeed(
    statement<[{ subtree: number }], User>(
      db,
      `${SUBTREE_CTE} ${USER_SELECT} WHERE u.group_id IN (SELECT id FROM subtree) ORDER BY u.id`,
    ).all({ subtree: group.value.id }),
  );
}

/**
 * Removes a user that owns no virtual number: numbers are SIP accounts and licenses, so they are
 * removed one by one on purpose (`sipwarden number remove`), never as a side effect.
 */
export function removeUser(db: Db, login: string, ctx: ChangeContext): Outcome<User> {
  return db
    .transaction((): Outcome<User> => {
      const user = resolveUser(db, 'login', login);
      if (!user.ok) return user;
      if (user.value.numbersUsed > 0) {
        return fail(
          'conflict',
          'login',
          `user '${login}' still owns ${user.value.numbersUsed} virtual number(s); remove them first ('sipwarden number list --user ${login}')`,
        );
      }
      statement(db, 'DELETE FROM users WHERE id = ?').run(user.value.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'user.remove',
        outcome: 'ok',
        rootGroup: user.value.root,
        target: login,
        oldValue: {
          login,
          group: user.value.group,
          personalNumbers: user.value.personalNumbers,
          personalApps: user.value.personalApps,
        },
      });
      return succeed(user.value);
    })
    .immediate();
}
