import type { StoreFault, StoreFaultKind } from '../policy/install-ledger.js';

const BY_PRIMARY_CODE: Readonly<Record<string, StoreFaultKind>> = {
  SQLITE_BUSY: 'locked',
  SQLITE_LOCKED: 'locked',
  SQLITE_READONLY: 'read-only',
  SQLITE_PERM: 'read-only',
  SQLITE_CANTOPEN: 'read-only',
  SQLITE_FULL: 'full',
  SQLITE_IOERR: 'io-error',
  SQLITE_CORRUPT: 'io-error',
  SQLITE_NOTADB: 'io-error',
};

function sqliteCode(err: unknown): string | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/** The fault behind an error thrown by better-sqlite3 (or anything else: `error`). */
export function storeFault(err: unknown): StoreFault {
  const code = sqliteCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === null) return { kind: 'error', code: null, message };
  // Extended codes keep the primary one as their prefix (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE).
  const primary = Object.keys(BY_PRIMARY_CODE).find((p) => code === p || code.startsWith(`${p}_`));
  return { kind: primary === undefined ? 'error' : (BY_PRIMARY_CODE[primary] ?? 'error'), code, message };
}

/**
 * True for a fault of the database as a whole (lock, file, disk), which fails every write of a
 * batch alike; false for a fault of one statement (a constraint, a bug) that the others survive.
 */
export function isStoreWideFault(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== null && !code.startsWith('SQLITE_CONSTRAINT') && storeFault(err).kind !== 'error';
}
