import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInstalls } from '../../src/store/app-installs.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { addGroup } from '../../src/store/groups.js';
import type { StoreInstallLedger } from '../../src/store/store-install-ledger.js';
import { getLicenses, setLicenses } from '../../src/store/license-settings.js';
import { LiveSnapshot } from '../../src/store/live-snapshot.js';
import { addNumber } from '../../src/store/numbers.js';
import type { StoreStateChange } from '../../src/store/store-health.js';
import { addUser } from '../../src/store/users.js';
import { installInput, testLedger } from './ledger-fixture.js';
import { ctx, ok, T0, tempDb, type TempDb } from './temp-db.js';

/*
 * The SIP path's install ledger against a real SQLite file, with its real writer thread: a lock
 * held by another connection, a read-only and a full store never grant a licence and never stall
 * the event loop; claims stay exact across two writers; records are coalesced and survive a lock.
 */

const NUMBERS = Array.from({ length: 40 }, (_, i) => String(5000 + i));

const input = installInput;

/** Counts event-loop turns while `work` runs: a blocked loop turns (almost) never. */
async function loopTurnsDuring<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  const timer = setInterval(() => turns++, 10);
  try {
    return { value: await work, turns };
  } finally {
    clearInterval(timer);
  }
}

function licensedCount(db: Db): number {
  return db.prepare('SELECT COUNT(*) FROM app_installs WHERE licensed = 1').pluck().get() as number;
}

describe('StoreInstallLedger with its writer thread', () => {
  let t: TempDb;
  let live: LiveSnapshot;
  let ledger: StoreInstallLedger;
  let changes: StoreStateChange[];
  let other: Db;
  const ledgers: StoreInstallLedger[] = [];

  async function open(extra: Parameters<typeof testLedger>[2] = {}): Promise<StoreInstallLedger> {
    const made = await testLedger(t.path, live, extra);
    ledgers.push(made.ledger);
    changes = made.changes;
    return made.ledger;
  }

  beforeEach(async () => {
    t = tempDb('sipwarden-ledger-');
    ok(addGroup(t.db, { name: 'Tower' }, ctx));
    ok(setLicenses(t.db, 'Tower', { restrictions: true, virtualNumbers: NUMBERS.length, mobileApps: 25 }, ctx));
    ok(addUser(t.db, { login: 'owner', group: 'Tower' }, ctx));
    for (const n of NUMBERS) ok(addNumber(t.db, { number: n, login: 'owner' }, ctx));
    live = new LiveSnapshot(t.db, { intervalMs: 1000 });
    other = openDatabase(t.path);
    ledger = await open();
  });

  afterEach(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    for (const l of ledgers.splice(0)) await l.close();
    live.stop();
    t.close();
  });

  it('takes a licence and applies it to the snapshot without reloading the tree', async () => {
    const before = live.index.revisionOf(1);
    expect(await ledger.claim(input('a', '5000'))).toEqual({ outcome: 'granted' });
    expect(live.current.install('a', '5000')).toMatchObject({ groupRank: 0 });
    expect(live.current.group(1)).toMatchObject({ appsUsed: 1 });
    // The tree moved to the store's revision, so the poll finds nothing stale to reload.
    expect(live.index.revisionOf(1)).toBe((before ?? 0) + 1);
    expect(live.refresh()?.changed ?? []).toEqual([]);
    expect(await ledger.claim(input('a', '5000'))).toEqual({ outcome: 'granted' });
    expect(getLicenses(t.db, 1)?.appsUsed).toBe(1);
  });

  it('answers a claim unrecorded after its wait while another connection holds the write lock, with the loop free', async () => {
    const locked = await open({ claimTimeoutMs: 300 });
    other.exec('BEGIN IMMEDIATE');
    const { value, turns } = await loopTurnsDuring(locked.claim(input('b', '5002')));
    expect(value).toMatchObject({ outcome: 'unrecorded', fault: { kind: 'locked', code: 'SQLITE_BUSY' } });
    // A blocked loop would not have turned at all during the 300 ms wait.
    expect(turns).toBeGreaterThan(5);
    other.exec('ROLLBACK');
    expect(findInstalls(t.db, 'b')).toEqual([]);
    expect(live.current.install('b', '5002')).toBeUndefined();
    expect(await locked.claim(input('b', '5002'))).toEqual({ outcome: 'granted' });
    expect(changes.map((c) => (c.state.writable ? 'writable' : c.state.fault.kind))).toEqual(['locked', 'writable']);
    expect(changes[1]?.episode).toMatchObject({ unrecordedClaims: 1, faults: { locked: 1 } });
  });

  it('never grants a licence on a read-only store', async () => {
    const readOnly = await open({ writer: { pragmas: ['query_only = 1'] } });
    expect(await readOnly.claim(input('c', '5003'))).toMatchObject({ outcome: 'unrecorded', fault: { kind: 'read-only' } });
    expect(await readOnly.claim(input('d', '5004'))).toMatchObject({ outcome: 'unrecorded' });
    expect(licensedCount(t.db)).toBe(0);
    expect(live.current.group(1)).toMatchObject({ appsUsed: 0 });
    // Logged once for the condition, not once per claim.
    expect(changes).toHaveLength(1);
  });

  it('never grants a licence on a full store (max_page_count)', async () => {
    // SQLite keeps max_page_count at no less than the current size: the file is full as it stands.
    const full = await open({ writer: { pragmas: ['max_page_count = 1'] } });
    // A long User-Agent needs overflow pages the full file cannot have.
    const answer = await full.claim(input('e', '5005', { userAgent: 'x'.repeat(20_000) }));
    expect(answer).toMatchObject({ outcome: 'unrecorded', fault: { kind: 'full', code: 'SQLITE_FULL' } });
    expect(licensedCount(t.db)).toBe(0);
  });

  it('keeps claims exact across two writers on one database', async () => {
    const second = await testLedger(t.path, live);
    ledgers.push(second.ledger);
    const claims = NUMBERS.map((n, i) => (i % 2 === 0 ? ledger : second.ledger).claim(input(`x${i}`, n)));
    const answers = await Promise.all(claims);
    expect(answers.filter((a) => a.outcome === 'granted')).toHaveLength(25);
    expect(answers.filter((a) => a.outcome === 'refused')).toHaveLength(NUMBERS.length - 25);
    expect(licensedCount(t.db)).toBe(25);
    expect(getLicenses(t.db, 1)?.appsUsed).toBe(25);
  });

  it('asks the store once for a retransmitted claim in flight', async () => {
    const [first, again] = await Promise.all([ledger.claim(input('r', '5006')), ledger.claim(input('r', '5006'))]);
    expect(first).toEqual({ outcome: 'granted' });
    expect(again).toBe(first);
  });

  it('coalesces refused-install records, keeps them through a lock and writes them after it', async () => {
    for (let i = 0; i < 50; i++) ledger.recordRefused(input('late', '5007', { pnPrid: `token-${i}`, now: T0 + i }));
    other.exec('BEGIN IMMEDIATE');
    await ledger.flush();
    expect(findInstalls(t.db, 'late')).toEqual([]);
    expect(changes.at(-1)?.state).toMatchObject({ writable: false, fault: { kind: 'locked' } });
    other.exec('COMMIT');
    await ledger.flush();
    const rows = findInstalls(t.db, 'late');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ licensed: false, pnPrid: 'token-49', lastSeen: T0 + 49 });
    expect(changes.at(-1)?.state).toEqual({ writable: true });
  });
});

describe('LiveSnapshot.markDirty', () => {
  it('reloads on the next turn of the loop, never inside the call', async () => {
    const t = tempDb('sipwarden-live-');
    try {
      ok(addGroup(t.db, { name: 'Tower' }, ctx));
      const refreshed: number[] = [];
      const live = new LiveSnapshot(t.db, { intervalMs: 1000, onRefresh: (stale) => refreshed.push(stale.changed.length) });
      ok(setLicenses(t.db, 'Tower', { restrictions: true, virtualNumbers: 5 }, ctx));
      live.markDirty();
      expect(refreshed).toEqual([]);
      await sleep(20);
      expect(refreshed).toEqual([1]);
      live.stop();
    } finally {
      t.close();
    }
  });
});
