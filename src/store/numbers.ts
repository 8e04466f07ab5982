import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { resolveGroup, SUBTREE_CTE } from './groups.js';
import { getLicenses } from './license-settings.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { resolveUser, type User } from './users.js';
import { checkNumber } from './validation.js';
import { normalizeNumber } from '../policy/normalize-number.js';

/** A virtual number: the user part of a SIP AOR, owned by a user, counted against its root group. */
export interface VirtualNumber {
  readonly id: number;
  readonly number: string;
  readonly userId: number;
  readonly rootId: number;
  readonly user: string;
  readonly group: string;
  readonly root: string;
  readonly createdAt: number;
}

/** A number row as a `VirtualNumber`: the columns renamed by their aliases, nothing to convert. */
const NUMBER_SELECT = `SELECT n.id, n.number, n.user_id AS userId, n.root_id AS rootId, u.login AS user, g.name AS "group",
  r.name AS root, n.created_at AS createdAt
FROM numbers n JOIN users u ON u.id = n.user_id JOIN groups g ON g.id = u.group_id JOIN groups r ON r.id = n.root_id`;

/** A number as stored, looked up the way the SIP server matches it (`normalizeNumber`: `LOBBY` is `lobby`). */
export function findNumber(db: Db, number: string): VirtualNumber | undefined {
  return statement<[string], VirtualNumber>(db, `${NUMBER_SELECT} WHERE n.number = ?`).get(normalizeNumber(number));
}

/**
 * Whether one more virtual number fits the user's tree and personal license. Enforced only while
 * the root group's restrictions are on ("Off: the group is unlimited and nothing is enforced").
 */
export function checkNumberLimits(db: Db, user: User): Failure | null {
  const group = getLicenses(db, user.rootId);
  if (!group) throw new Error(`root group ${user.rootId} has no Licences row`);
  if (!group.restrictions) return null;
  if (group.numbersUsed >= group.virtualNumbers) {
    return fail(
      'limit',
      'virtualNumbers',
      `root group '${group.group}' uses ${group.numbersUsed} of its ${group.virtualNumbers} virtual-number licenses; raise the limit ('sipwarden licenses set ${group.group} --numbers N') or remove a number`,
    ).failure;
  }
  if (user.personalNumbers !== null && user.numbersUsed >= user.personalNumbers) {
    return fail(
      'limit',
      'personalNumbers',
      `user '${user.login}' uses ${user.numbersUsed} of their ${user.personalNumbers} personal virtual-number licenses; raise it ('sipwarden user licenses ${user.login} --numbers N') or remove a number`,
    ).failure;
  }
  return null;
}

export interface AddNumberInput {
  readonly number: string;
  readonly login: string;
  /** When the number was added; default `ctx.now` (an import keeps the file's times: they rank the numbers). */
  readonly createdAt?: number;
}

/**
 * Adds a virtual number, stored normalised (`normalizeNumber`: as the SIP server matches AoRs, so
 * `LOBBY` is stored as `lobby` and refused when `lobby` exists). The limit check and the insert
 * run in one `BEGIN IMMEDIATE` transaction: concurrent writers queue for the write lock (busy
 * timeout), and each sees the counters as the previous one left them, so no number of processes
 * can exceed a limit.
 */
export function addNumber(db: Db, input: AddNumberInput, ctx: ChangeContext): Outcome<VirtualNumber> {
  const bad = checkNumber('number', input.number);
  if (bad) return { ok: false, failure: bad };
  const number = normalizeNumber(input.number);
  return db
    .transaction((): Outcome<VirtualNumber> => {
      const existing = findNumber(db, number);
      if (existing) {
        return fail('conflict', 'number', `number '${existing.number}' already exists (user '${existing.user}'); expected a new number (numbers are matched without regard to case)`);
      }
      const user = resolveUser(db, 'user', input.login);
      if (!user.ok) return user;
      const refused = checkNumberLimits(db, user.value);
      if (refused) return { ok: false, failure: refused };
      statement(db, 'INSERT INTO numbers (number, user_id, root_id, created_at) VALUES (?, ?, ?, ?)').run(
        number,
        user.value.id,
        user.value.rootId,
        input.createdAt ?? ctx.now,
      );
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'number.add',
        outcome: 'ok',
        rootGroup: user.value.root,
        target: number,
        newValue: { number, user: input.login },
      });
      const added = findNumber(db, number);
      if (!added) throw new Error(`number '${number}' vanished after insert`);
      return succeed(added);
    })
    .immediate();
}

export interface NumberFilter {
  /** A group's whole subtree. */
  readonly group?: string;
  readonly user?: string;
}

/** Numbers in creation order (the order that decides which are beyond a lowered limit). */
export function listNumbers(db: Db, filter: NumberFilter = {}): Outcome<VirtualNumber[]> {
  let groupId: number | null = null;
  let userId: number | null = null;
  if (filter.group !== undefined) {
    const g = resolveGroup(db, 'group', filter.group);
    if (!g.ok) return g;
    groupId = g.value.id;
  }
  if (filter.user !== undefined) {
    const u = resolveUser(db, 'user', filter.user);
    if (!u.ok) return u;
    userId = u.value.id;
  }
  const rows = statement<[{ subtree: number | null; user: number | null }], VirtualNumber>(
    db,
    `${SUBTREE_CTE} ${NUMBER_SELECT}
     WHERE (@subtree IS NULL OR u.group_id IN (SELECT id FROM subtree)) AND (@user IS NULL OR n.user_id = @user)
     ORDER BY n.id`,
  ).all({ subtree: groupId, user: userId });
  return succeed(rows);
}

/** Removes a number; its app installs go with it and give their licenses back. */
export function removeNumber(db: Db, number: string, ctx: ChangeContext): Outcome<VirtualNumber> {
  return db
    .transaction((): Outcome<VirtualNumber> => {
      const found = findNumber(db, number);
      if (!found) return fail('not-found', 'number', `number '${number}' does not exist; see 'sipwarden number list'`);
      statement(db, 'DELETE FROM numbers WHERE id = ?').run(found.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'number.remove',
        outcome: 'ok',
        rootGroup: found.root,
        target: found.number,
        oldValue: { number: found.number, user: found.user },
      });
      return succeed(found);
    })
    .immediate();
}
