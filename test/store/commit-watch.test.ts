import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchCommits, type CommitWatch } from '../../src/store/commit-watch.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LiveSnapshot } from '../../src/store/live-snapshot.js';
import { CliWorld, killRunning } from '../cli/cli-harness.js';

/*
 * The daemon applies a CLI change at once: the commit another process makes is reported by the
 * file system, without waiting for the poll (here an hour, so only the watch can refresh).
 */

/** A hang guard, not a speed assertion. */
const WAIT_MS = 10_000;

let w: CliWorld;
let db: Db;
let live: LiveSnapshot;
let watch: CommitWatch | null;
const refreshed: (() => void)[] = [];

beforeAll(async () => {
  w = await new CliWorld().init();
  await w.ok(['group', 'add', 'Sunrise']);
  await w.ok(['licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '3', '--apps', '1']);
  db = openDatabase(w.db);
  live = new LiveSnapshot(db, { intervalMs: 3_600_000, onRefresh: () => refreshed.splice(0).forEach((f) => f()) });
  live.start();
  watch = watchCommits(w.db, () => live.refresh());
}, 60_000);
afterAll(() => {
  watch?.close();
  live.stop();
  db.close();
  killRunning();
  w.remove();
});

function sunriseLimit(): number | undefined {
  const id = db.prepare<[], number>("SELECT id FROM groups WHERE name = 'Sunrise'").pluck().get();
  return id === undefined ? undefined : live.current.group(id)?.virtualNumbers;
}

function nextRefresh(): Promise<void> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`no refresh within ${WAIT_MS} ms`)), WAIT_MS);
    refreshed.push(() => {
      clearTimeout(guard);
      resolve();
    });
  });
}

describe('watchCommits', () => {
  it('a licences change committed by a CLI process is in the live snapshot without a poll', async () => {
    expect(watch).not.toBeNull();
    expect(sunriseLimit()).toBe(3);
    const refresh = nextRefresh();
    await w.ok(['licenses', 'set', 'Sunrise', '--numbers', '7']);
    await refresh;
    expect(sunriseLimit()).toBe(7);
  });

  it('the last of a burst of commits is seen too', async () => {
    const other = openDatabase(w.db);
    try {
      for (let n = 10; n <= 30; n++) other.prepare("UPDATE licenses SET virtual_numbers = ? WHERE group_id = (SELECT id FROM groups WHERE name = 'Sunrise')").run(n);
    } finally {
      other.close();
    }
    for (let i = 0; i < 5 && sunriseLimit() !== 30; i++) await nextRefresh();
    expect(sunriseLimit()).toBe(30);
  });

  it('an in-memory database has nothing to watch', () => {
    expect(watchCommits(':memory:', () => undefined)).toBeNull();
  });
});
