import type { Command } from 'commander';
import type { ChangeContext } from '../store/change-context.js';
import type { Db } from '../store/database.js';
import { appendAudit } from '../store/audit-log.js';
import { authenticate, PERMISSIONS, type Operator, type Permission } from '../store/operators.js';
import { BadInputError, NotPermittedError } from './errors.js';

/** The global options every command inherits. */
export interface GlobalOptions {
  readonly db: string;
  readonly token?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ db?: string; token?: string }>();
  return { db: o.db ?? './sipwarden.db', ...(o.token === undefined || o.token === '' ? {} : { token: o.token }) };
}

/** What a refused attempt was trying to do, for its audit row. */
export interface Attempt {
  readonly action: string;
  readonly rootGroup?: string | null;
  readonly target?: string | null;
  /** What was asked for (never a token). */
  readonly request?: unknown;
}

/** An authenticated operator and the database, for the length of one command. */
export class Session {
  constructor(
    readonly db: Db,
    readonly operator: Operator,
  ) {}

  has(permission: Permission): boolean {
    return this.operator.permissions.includes(permission);
  }

  /** Throws NotPermittedError (exit 3) after auditing the refused attempt (outcome 'denied'). */
  require(permission: Permission, attempt: Attempt): void {
    if (this.has(permission)) return;
    appendAudit(this.db, {
      at: Date.now(),
      operator: this.operator.name,
      action: attempt.action,
      outcome: 'denied',
      rootGroup: attempt.rootGroup ?? null,
      target: attempt.target ?? null,
      newValue: attempt.request ?? null,
    });
    throw new NotPermittedError(
      `operator '${this.operator.name}' may not ${attempt.action}: it needs the permission ${permission} ("${PERMISSIONS[permission]}")`,
    );
  }

  /** Who and when, for the audit rows of a change. */
  change(): ChangeContext {
    return { now: Date.now(), operator: this.operator.name };
  }
}

/** Opens the database named by --db (better-sqlite3 is loaded only here, not for --help). */
export async function openExisting(path: string): Promise<Db> {
  const { openDatabase, DatabaseMissingError } = await import('../store/database.js');
  try {
    return openDatabase(path);
  } catch (err) {
    if (err instanceof DatabaseMissingError) {
      throw new BadInputError(`--db: database ${path} does not exist; expected the path of a database made by 'sipwarden init'`);
    }
    throw err;
  }
}

/**
 * Runs `fn` with an authenticated session and closes the database afterwards. A missing or
 * unknown token is refused (exit 3) before anything else; it is not audited, since there is no
 * operator to name.
 */
export async function withSession<T>(cmd: Command, fn: (session: Session) => T | Promise<T>): Promise<T> {
  const options = globalOptions(cmd);
  if (options.token === undefined) {
    throw new NotPermittedError(
      "no token given; expected --token T or SIPWARDEN_TOKEN (printed once by 'sipwarden init' or 'sipwarden operator add')",
    );
  }
  const db = await openExisting(options.db);
  try {
    const operator = authenticate(db, options.token);
    if (!operator) throw new NotPermittedError(`the token is not valid for ${options.db}; expected the token of an operator of this database`);
    return await fn(new Session(db, operator));
  } finally {
    db.close();
  }
}
