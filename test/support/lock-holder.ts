import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './repo-root.js';

/**
 * Another process holding the SQLite write lock (`BEGIN IMMEDIATE`) for `ms`, as a CLI command or
 * a second `serve` stuck in a long transaction would: a real process with its own connection.
 */
export interface LockHolder {
  /** Resolves once the lock is held. */
  readonly locked: Promise<void>;
  /** Resolves once it has committed and exited. */
  readonly released: Promise<void>;
  /** Ends it early (tests' cleanup), by its PID. */
  stop(): void;
}

const SCRIPT = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 10000');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));
`;

export function holdWriteLock(dbPath: string, ms: number): LockHolder {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, dbPath, String(ms)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before it held the lock`)));
  });
  locked.catch(() => undefined);
  return {
    locked,
    released,
    stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
  };
}
