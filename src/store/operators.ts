import { createHash, randomBytes } from 'node:crypto';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { fail, succeed, type Failure, type Outcome } from './outcome.js';
import { statement } from './statements.js';
import { checkLogin } from './validation.js';

/**
 * What an operator may see and change; which commands need which is in the CLI's COMMAND_ACCESS.
 * The first text is the product's own wording; that permission also guards viewing the Licences.
 */
export const PERMISSIONS = {
  'licenses:edit': 'Can edit the number of licenses for root group (and view them, their events and check decisions)',
  'groups:edit': 'Can add and remove groups',
  'users:edit': 'Can view and change users, their virtual numbers and app installs (with push parameters)',
  'operators:edit': 'Can view and change operators and their permissions',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

export interface Operator {
  readonly id: number;
  readonly name: string;
  /** Sorted. */
  readonly permissions: readonly Permission[];
  readonly createdAt: number;
}

/** A new token: 32 random bytes, base64url. Only its SHA-256 is stored; the token is shown once. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * SHA-256 in hex. A plain hash is enough (no salt, no slow KDF): the token has 256 bits of
 * entropy, so its hash cannot be searched, and a lookup by hash reveals nothing by timing.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function permissionsOf(db: Db, operatorId: number): Permission[] {
  return statement<[number], { permission: string }>(
    db,
    'SELECT permission FROM operator_permissions WHERE operator_id = ? ORDER BY permission',
  )
    .all(operatorId)
    .map((r) => r.permission)
    .filter(isPermission);
}

interface OperatorRaw {
  id: number;
  name: string;
  created_at: number;
}

/** A mapper, not aliases: the permissions come from their own table. */
function toOperator(db: Db, r: OperatorRaw): Operator {
  return { id: r.id, name: r.name, permissions: permissionsOf(db, r.id), createdAt: r.created_at };
}

/** The operator holding `token`, if any. */
export function authenticate(db: Db, token: string): Operator | undefined {
  const r = statement<[string], OperatorRaw>(db, 'SELECT id, name, created_at FROM operators WHERE token_hash = ?').get(
    hashToken(token),
  );
  return r && toOperator(db, r);
}

export function findOperator(db: Db, name: string): Operator | undefined {
  const r = statement<[string], OperatorRaw>(db, 'SELECT id, name, created_at FROM operators WHERE name = ?').get(name);
  return r && toOperator(db, r);
}

export function countOperators(db: Db): number {
  return statement<[], { n: number }>(db, 'SELECT COUNT(*) AS n FROM operators').get()?.n ?? 0;
}

export function listOperators(db: Db): Operator[] {
  return statement<[], OperatorRaw>(db, 'SELECT id, name, created_at FROM operators ORDER BY name')
    .all()
    .map((r) => toOperator(db, r));
}

export interface NewOperator {
  readonly operator: Operator;
  /** Shown once; only its hash is stored. */
  readonly token: string;
}

function insertOperator(db: Db, name: string, permissions: readonly Permission[], now: number): NewOperator {
  const token = newToken();
  const info = statement(db, 'INSERT INTO operators (name, token_hash, created_at) VALUES (?, ?, ?)').run(
    name,
    hashToken(token),
    now,
  );
  const id = Number(info.lastInsertRowid);
  const grant = statement(db, 'INSERT OR IGNORE INTO operator_permissions (operator_id, permission) VALUES (?, ?)');
  for (const p of permissions) grant.run(id, p);
  return { operator: { id, name, permissions: [...new Set(permissions)].sort(), createdAt: now }, token };
}

/** An unknown permission is refused (field `permission`), never left out. */
export function checkPermissions(permissions: readonly string[]): { ok: false; failure: Failure } | null {
  const unknown = permissions.find((p) => !isPermission(p));
  return unknown === undefined
    ? null
    : fail('invalid', 'permission', `'${unknown}' is not a permission; expected one of ${ALL_PERMISSIONS.join(', ')}`);
}

/**
 * The first operator of a new database, `admin`, with every permission. Refused once any
 * operator exists, so that `init` can never mint a second all-powerful token.
 */
export function createFirstOperator(db: Db, now: number): Outcome<NewOperator> {
  return db
    .transaction((): Outcome<NewOperator> => {
      if (countOperators(db) > 0) {
        return fail('conflict', 'database', 'the database already has operators; ask one with operators:edit to add you');
      }
      const created = insertOperator(db, 'admin', ALL_PERMISSIONS, now);
      appendAudit(db, {
        at: now,
        operator: 'admin',
        action: 'init',
        outcome: 'ok',
        rootGroup: null,
        target: 'admin',
        newValue: { name: 'admin', permissions: created.operator.permissions },
      });
      return succeed(created);
    })
    .immediate();
}

export interface AddOperatorInput {
  readonly name: string;
  readonly permissions: readonly string[];
}

export function addOperator(db: Db, input: AddOperatorInput, ctx: ChangeContext): Outcome<NewOperator> {
  const bad = checkLogin('name', input.name);
  if (bad) return { ok: false, failure: bad };
  const badPermission = checkPermissions(input.permissions);
  if (badPermission) return badPermission;
  return db
    .transaction((): Outcome<NewOperator> => {
      if (findOperator(db, input.name)) {
        return fail('conflict', 'name', `operator '${input.name}' already exists; expected a new name`);
      }
      const created = insertOperator(db, input.name, input.permissions.filter(isPermission), ctx.now);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'operator.add',
        outcome: 'ok',
        rootGroup: null,
        target: input.name,
        newValue: { name: input.name, permissions: created.operator.permissions },
      });
      return succeed(created);
    })
    .immediate();
}

/**
 * Refuses a change that would leave nobody able to manage operators, so that a database cannot
 * lock itself out: `op` is losing operators:edit (removed or revoked).
 */
function lockoutFailure(db: Db, op: Operator): { ok: false; failure: Failure } | null {
  if (!op.permissions.includes('operators:edit')) return null;
  const editors =
    statement<[], { n: number }>(db, "SELECT COUNT(*) AS n FROM operator_permissions WHERE permission = 'operators:edit'").get()
      ?.n ?? 0;
  return editors <= 1
    ? fail('conflict', 'name', `operator '${op.name}' is the last one with operators:edit; grant it to another operator first`)
    : null;
}

export function removeOperator(db: Db, name: string, ctx: ChangeContext): Outcome<Operator> {
  return db
    .transaction((): Outcome<Operator> => {
      const op = findOperator(db, name);
      if (!op) return fail('not-found', 'name', `operator '${name}' does not exist; see 'sipwarden operator list'`);
      const lockout = lockoutFailure(db, op);
      if (lockout) return lockout;
      statement(db, 'DELETE FROM operators WHERE id = ?').run(op.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'operator.remove',
        outcome: 'ok',
        rootGroup: null,
        target: name,
        oldValue: { name, permissions: op.permissions },
      });
      return succeed(op);
    })
    .immediate();
}

export interface PermissionUpdate {
  readonly name: string;
  readonly before: readonly Permission[];
  readonly after: readonly Permission[];
}

/** Grants (`grant = true`) or revokes permissions of an operator. */
export function changePermissions(
  db: Db,
  name: string,
  permissions: readonly string[],
  grant: boolean,
  ctx: ChangeContext,
): Outcome<PermissionUpdate> {
  const badPermission = checkPermissions(permissions);
  if (badPermission) return badPermission;
  return db
    .transaction((): Outcome<PermissionUpdate> => {
      const op = findOperator(db, name);
      if (!op) return fail('not-found', 'name', `operator '${name}' does not exist; see 'sipwarden operator list'`);
      if (!grant && permissions.includes('operators:edit')) {
        const lockout = lockoutFailure(db, op);
        if (lockout) return lockout;
      }
      const change = statement(
        db,
        grant
          ? 'INSERT OR IGNORE INTO operator_permissions (operator_id, permission) VALUES (?, ?)'
          : 'DELETE FROM operator_permissions WHERE operator_id = ? AND permission = ?',
      );
      for (const p of permissions) change.run(op.id, p);
      const after = permissionsOf(db, op.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: grant ? 'operator.grant' : 'operator.revoke',
        outcome: 'ok',
        rootGroup: null,
        target: name,
        oldValue: { permissions: op.permissions },
        newValue: { permissions: after },
      });
      return succeed({ name, before: op.permissions, after });
    })
    .immediate();
}
