import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { assertBuilt, BIN } from '../cli/cli-harness.js';

/*
 * The database holds operator token hashes, push tokens and Contacts: sipwarden creates it, its
 * folder and the -wal/-shm files SQLite adds, readable by their owner only, whatever the umask.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-files-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('database files', () => {
  it('openDatabase creates the folder 0700 and the database, its -wal and -shm 0600', () => {
    const dir = join(tempDir(), 'data');
    const path = join(dir, 'sipwarden.db');
    const db = openDatabase(path, { create: true });
    try {
      db.exec("CREATE TABLE probe (x); INSERT INTO probe VALUES (1)");
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect(existsSync(`${path}-shm`)).toBe(true);
      expect({ dir: mode(dir), db: mode(path), wal: mode(`${path}-wal`), shm: mode(`${path}-shm`) }).toEqual({
        dir: '700',
        db: '600',
        wal: '600',
        shm: '600',
      });
    } finally {
      db.close();
    }
  });

  it('an existing database keeps the mode its owner gave it', () => {
    const path = join(tempDir(), 'shared.db');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    openDatabase(path, { create: true }).close();
    expect(mode(path)).toBe('640');
  });

  it("'sipwarden init' under umask 022 makes a 0600 database", () => {
    assertBuilt();
    const path = join(tempDir(), 'init.db');
    execFileSync('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, BIN, '--db', path, 'init', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(mode(path)).toBe('600');
  });
});
