import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { ChangeContext } from '../store/change-context.js';
import type { Db } from '../store/database.js';
import { appendAudit } from '../store/audit-log.js';
import { rootGroupName } from '../store/groups.js';
import { authenticate, PERMISSIONS, type Operator, type Permission } from '../store/operators.js';
import { accessOf, type CommandAccess } from './command-access.js';
import { BadInputError, LimitRefusedError, NotPermittedError } from './errors.js';
import type { GlobalOptionValues } from './root-command.js';
import { commandPath } from './sipwarden-command.js';

/** A command under `sipwarden`: its type knows the global options it inherits (root-command.ts). */
export interface SubcommandOfProgram {
  optsWithGlobals(): GlobalOptionValues;
}

/** The global options every command inherits; an empty token (SIPWARDEN_TOKEN=) is no token. */
export function globalOptions(cmd: SubcommandOfProgram): GlobalOptionValues {
  const { db, token } = cmd.optsWithGlobals();
  return { db, ...(token === undefined || token === '' ? {} : { token }) };
}

/** What an attempt is about, for the audit row written when it is refused. */
export interface Attempt {
  readonly rootGroup?: string | null;
  readonly target?: string | null;
  /** What was asked for (never a token). */
  readonly request?: unknown;
}

/**
 * An authenticated operator and the database, for the length of one command. Every command calls
 * `authorize` before it reads anything but the group tree: it checks the permissions that
 * COMMAND_ACCESS names for the command, so the table is the one place that says who may do what.
 */
export class Session {
  #attempt: Attempt | undefined;

  constructor(
    readonly db: Db,
    readonly operator: Operator,
    /** The command as typed, e.g. `app list`. */
    readonly command: string,
    private readonly access: CommandAccess,
  ) {}

  /** The audit log's name of the command: `app.list`, `licenses.set`, `import` … */
  get action(): string {
    return this.command.replaceAll(' ', '.');
  }

  get authorized(): boolean {
    return this.#attempt !== undefined;
  }

  has(permission: Permission): boolean {
    return this.operator.permissions.includes(permission);
  }

  /** Throws NotPermittedError (exit 3) after auditing the refused attempt (outcome 'denied'). */
  authorize(attempt: Attempt = {}): void {
    this.#attempt = attempt;
    this.#demand(this.access.needs, attempt);
  }

  /** The table's `alsoWhen` permission, once the command knows it is in that situation. */
  authorizeAlso(attempt: Attempt): void {
    const also = this.access.alsoWhen;
    if (also === undefined) throw new Error(`'${this.command}' has no conditional permission in COMMAND_ACCESS`);
    this.#attempt = attempt;
    this.#demand([also.permission], attempt);
  }

  #demand(permissions: readonly Permission[], attempt: Attempt): void {
    const missing = permissions.filter((p) => !this.has(p));
    if (missing.length === 0) return;
    this.#audit('denied', attempt.request ?? null, attempt);
    const named = missing.map((p) => `${p} ("${PERMISSIONS[p]}")`).join(', ');
    throw new NotPermittedError(
      `operator '${this.operator.name}' may not ${this.action}: it needs the permission${missing.length > 1 ? 's' : ''} ${named}`,
    );
  }

  /** A licence limit refused the command (exit 4): audited like a permission refusal, outcome 'refused'. */
  auditLimitRefusal(message: string): void {
    const attempt = this.#attempt ?? {};
    this.#audit('refused', { request: attempt.request ?? null, refusal: message }, attempt);
  }

  #audit(outcome: 'denied' | 'refused', newValue: unknown, attempt: Attempt): void {
    appendAudit(this.db, {
      at: Date.now(),
      operator: this.operator.name,
      action: this.action,
      outcome,
      rootGroup: attempt.rootGroup ?? null,
      target: attempt.target ?? null,
      newValue,
    });
  }

  /** The root group of `group`, for an audit row; null when none is given or it does not exist. */
  rootOf(group: string | undefined): string | null {
    return group === undefined ? null : (rootGroupName(this.db, group) ?? null);
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
 * operator to name. A limit refusal (exit 4) is audited with outcome 'refused'.
 */
export async function withSession<T>(cmd: CommandUnknownOpts & SubcommandOfProgram, fn: (session: Session) => T | Promise<T>): Promise<T> {
  const name = commandPath(cmd).split(' ').slice(1).join(' ');
  const access = accessOf(name);
  if (access === undefined) throw new Error(`'${name}' has no entry in COMMAND_ACCESS`);
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
    const session = new Session(db, operator, name, access);
    try {
      const result = await fn(session);
      // A command that never checked its permissions is a bug, whatever it printed.
      if (!session.authorized) throw new Error(`'${name}' did not check its permissions`);
      return result;
    } catch (err) {
      if (err instanceof LimitRefusedError) session.auditLimitRefusal(err.message);
      throw err;
    }
  } finally {
    db.close();
  }
}
