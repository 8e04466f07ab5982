import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGroup } from '../../src/store/groups.js';
import { InstallWriter, type WriterAnswer } from '../../src/store/install-writer.js';
import { setLicenses } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import { addUser } from '../../src/store/users.js';
import { installInput } from './ledger-fixture.js';
import { ctx, ok, tempDb, type TempDb } from './temp-db.js';

/*
 * Group commit in the install writer thread (issue 8, item 6), on a real SQLite file with the
 * real thread: a COMMIT costs more than the claims in it, so the claims of a burst share
 * transactions, and each is still answered on its own, granted only once on disk.
 */

const NUMBERS = Array.from({ length: 80 }, (_, i) => String(7000 + i));

function granted(a: WriterAnswer): boolean {
  return a.kind === 'claimed' && a.result.ok && !a.result.alreadyLicensed;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('InstallWriter group commit', () => {
  let t: TempDb;
  let writer: InstallWriter;

  beforeEach(async () => {
    t = tempDb('sipwarden-writer-');
    ok(addGroup(t.db, { name: 'Tower' }, ctx));
    ok(setLicenses(t.db, 'Tower', { restrictions: true, virtualNumbers: NUMBERS.length, mobileApps: NUMBERS.length }, ctx));
    ok(addUser(t.db, { login: 'owner', group: 'Tower' }, ctx));
    for (const n of NUMBERS) ok(addNumber(t.db, { number: n, login: 'owner' }, ctx));
    writer = new InstallWriter({ path: t.path });
    await writer.ready();
  });

  afterEach(async () => {
    await writer.close();
    t.close();
  });

  const licensed = (): number => t.db.prepare('SELECT COUNT(*) FROM app_installs WHERE licensed = 1').pluck().get() as number;

  it('takes the claims made in one turn of the loop in one transaction, answering each', async () => {
    const answers = await Promise.all(NUMBERS.slice(0, 30).map((n) => writer.claim(installInput(`app-${n}`, n), 2000)));
    expect(answers.filter(granted)).toHaveLength(30);
    expect(writer.claimStats()).toEqual({ claims: 30, transactions: 1 });
    expect(licensed()).toBe(30);
  });

  it('lets the claims of a burst made over many turns share transactions', async () => {
    // One claim per turn, as datagrams arrive during a renewal push; none waits for the last.
    const pending: Promise<WriterAnswer>[] = [];
    for (const n of NUMBERS.slice(0, 40)) {
      pending.push(writer.claim(installInput(`app-${n}`, n), 2000));
      await nextTurn();
    }
    const answers = await Promise.all(pending);
    expect(answers.filter(granted)).toHaveLength(40);
    const stats = writer.claimStats();
    expect(stats.claims).toBe(40);
    expect(stats.transactions).toBeLessThanOrEqual(10);
    expect(licensed()).toBe(40);
  });

  it('lets each claim of a batch wait for the write lock until its own deadline, not the earliest one', async () => {
    t.db.exec('BEGIN IMMEDIATE'); // another connection holds the write lock
    const started = performance.now();
    const timed = (p: Promise<WriterAnswer>): Promise<{ answer: WriterAnswer; ms: number }> =>
      p.then((answer) => ({ answer, ms: performance.now() - started }));
    // Made in one turn: one batch in the writer thread.
    const short = timed(writer.claim(installInput('app-short', '7000'), 300));
    const long = timed(writer.claim(installInput('app-long', '7001'), 5000));
    const first = await short;
    expect(first.answer).toMatchObject({ kind: 'unrecorded', fault: { kind: 'locked' } });
    expect(first.ms).toBeGreaterThanOrEqual(250);
    t.db.exec('COMMIT'); // the lock is free again while the second claim still has time
    const second = await long;
    expect(granted(second.answer), JSON.stringify(second.answer)).toBe(true);
    expect(licensed()).toBe(1);
  });

  it('still refuses past the limit inside a shared transaction (each claim re-checks it)', async () => {
    ok(setLicenses(t.db, 'Tower', { mobileApps: 5 }, ctx));
    const answers = await Promise.all(NUMBERS.slice(0, 12).map((n) => writer.claim(installInput(`app-${n}`, n), 2000)));
    expect(answers.filter(granted)).toHaveLength(5);
    expect(answers.filter((a) => a.kind === 'claimed' && !a.result.ok)).toHaveLength(7);
    expect(writer.claimStats().transactions).toBe(1);
    expect(licensed()).toBe(5);
  });
});
