import Database from 'better-sqlite3';
import { closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Create the file (mode 0600) and its folder (0700) when missing. */
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
  if (path !== ':memory:') {
    if (options.create) createPrivately(path);
    // better-sqlite3 reports a missing folder as a TypeError; name the path either way.
    else if (!existsSync(path)) throw new DatabaseMissingError(path);
  }
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

/**
 * Creates the database file readable by its owner only, before SQLite opens it: it holds operator
 * token hashes, push tokens and Contacts. SQLite creates the -wal and -shm files later with the
 * mode of the database file (os_unix.c: findCreateFileMode, unixOpenSharedMemory), so they are
 * 0600 too. An existing file keeps its mode.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return;
    throw err;
  }
  try {
    // The mode given to open() is narrowed by the umask; set it exactly.
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}
