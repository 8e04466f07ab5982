import { openDatabase, type Db } from './database.js';
import { releaseIdleInstalls, type IdleRelease } from './idle-installs.js';

export interface IdleReleaseOptions {
  /** How long an install may go without registering before its licence is given back. */
  readonly idleMs: number;
  readonly clock: () => number;
  /** How often to look; one index probe when nothing is due. */
  readonly periodMs?: number;
  readonly onReleased: (released: readonly IdleRelease[]) => void;
  readonly onError: (err: unknown) => void;
}

export interface IdleReleaseJob {
  close(): void;
}

function isBusy(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED');
}

/**
 * The periodic idle release of `serve`, off the SIP path: its own connection, which never waits
 * for another writer's lock (busy timeout 0), so a CLI import or the install writer holding the
 * lock costs the event loop nothing: this round is skipped and the next one, a period later,
 * releases what is due.
 */
export function startIdleRelease(path: string, options: IdleReleaseOptions): IdleReleaseJob {
  const db: Db = openDatabase(path, { busyTimeoutMs: 0 });
  const timer = setInterval(() => {
    try {
      const released = releaseIdleInstalls(db, options.clock(), options.idleMs);
      if (released.length > 0) options.onReleased(released);
    } catch (err) {
      if (!isBusy(err)) options.onError(err);
    }
  }, options.periodMs ?? 1000);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      db.close();
    },
  };
}
