import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Create the file (and its folder) when missing. */
  readonly create?: boolean;
  /** How long a writer waits for another process's lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  readonly readonly?: boolean;
}

export class DatabaseMissingError extends Error {
  constructor(readonly path: string) {
    super(`database ${path} does not exist; create it with 'sipwarden init'`);
    this.name = 'DatabaseMissingError';
  }
}

/**
 * Opens a sipwarden database: WAL (readers never block the writer), foreign keys on, a busy
 * timeout so concurrent CLI processes and the daemon queue for the write lock instead of failing,
 * and migrations applied.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (options.create && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !options.create, readonly: options.readonly ?? false });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'SQLITE_CANTOPEN' && !options.create) {
      throw new DatabaseMissingError(path);
    }
    throw err;
  }
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!options.readonly) migrate(db);
  return db;
}
