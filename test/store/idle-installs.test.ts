import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimInstall, findInstalls, releaseInstall } from '../../src/store/app-installs.js';
import { listAudit } from '../../src/store/audit-log.js';
import { addGroup } from '../../src/store/groups.js';
import { releaseIdleInstalls } from '../../src/store/idle-installs.js';
import { startIdleRelease } from '../../src/store/idle-release-job.js';
import { getLicenses, setLicenses } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import { addUser } from '../../src/store/users.js';
import { installInput } from './ledger-fixture.js';
import { ctx, DAY, ok, T0, tempDb, type TempDb } from './temp-db.js';

/*
 * Idle installs give their licence back (DESIGN.md §1): each release is audited, the install keeps
 * its row and push parameters, and its next REGISTER claims a licence again.
 */

const IDLE = 30 * DAY;

let t: TempDb;
let rootId: number;
beforeEach(() => {
  t = tempDb();
  rootId = ok(addGroup(t.db, { name: 'Sunrise' }, ctx)).id;
  ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 10, mobileApps: 2 }, ctx));
  ok(addUser(t.db, { login: 'bob', group: 'Sunrise' }, ctx));
  for (const n of ['2001', '2002', '2003']) ok(addNumber(t.db, { number: n, login: 'bob' }, ctx));
});
afterEach(() => t.close());

const input = (instanceId: string, number: string, now: number) => installInput(instanceId, number, { now });

describe('releaseIdleInstalls', () => {
  it('frees the licence of an install not seen for the idle time, audited, keeping its push parameters', () => {
    expect(claimInstall(t.db, input('old', '2001', T0)).ok).toBe(true);
    expect(claimInstall(t.db, input('new', '2002', T0 + DAY)).ok).toBe(true);
    const now = T0 + IDLE + 1;
    expect(releaseIdleInstalls(t.db, now, IDLE)).toEqual([{ instanceId: 'old', number: '2001', rootGroup: 'Sunrise', lastSeen: T0 }]);
    expect(getLicenses(t.db, rootId)?.appsUsed).toBe(1);
    expect(findInstalls(t.db, 'old')[0]).toMatchObject({ licensed: false, licensedAt: null, releasedAt: now, releasedBy: 'idle', pnPrid: 'prid-old' });
    expect(findInstalls(t.db, 'new')[0]).toMatchObject({ licensed: true, releasedAt: null });
    expect(listAudit(t.db).at(-1)).toMatchObject({
      operator: null,
      action: 'app.release-idle',
      outcome: 'ok',
      rootGroup: 'Sunrise',
      target: 'old',
      oldValue: { licensed: ['2001'], lastSeen: '2026-01-01T00:00:00Z' },
      newValue: { licensed: [], idleAfterSeconds: IDLE / 1000 },
    });
    // Its licence is free: a third install takes it; the released one claims again when one is free.
    expect(claimInstall(t.db, input('third', '2003', now)).ok).toBe(true);
    expect(claimInstall(t.db, input('old', '2001', now))).toMatchObject({ ok: false, reason: 'no-mobile-app-license' });
  });

  it('writes nothing when nothing is due, and never releases what an operator already released', () => {
    expect(claimInstall(t.db, input('a', '2001', T0)).ok).toBe(true);
    const audits = listAudit(t.db).length;
    expect(releaseIdleInstalls(t.db, T0 + IDLE - 1, IDLE)).toEqual([]);
    expect(ok(releaseInstall(t.db, 'a', { now: T0 + 5, operator: 'carol' })).map((r) => r.number)).toEqual(['2001']);
    expect(findInstalls(t.db, 'a')[0]).toMatchObject({ licensed: false, releasedAt: T0 + 5, releasedBy: 'carol' });
    expect(releaseIdleInstalls(t.db, T0 + 2 * IDLE, IDLE)).toEqual([]);
    expect(listAudit(t.db).map((e) => e.action).slice(audits)).toEqual(['app.release']);
  });
});

describe('startIdleRelease', () => {
  it('releases on its own connection every period, skipping rounds while another writer holds the lock', async () => {
    expect(claimInstall(t.db, input('a', '2001', T0)).ok).toBe(true);
    let now = T0 + IDLE - 1;
    const released: string[] = [];
    const errors: unknown[] = [];
    let rounds = 0;
    const job = startIdleRelease(t.path, {
      idleMs: IDLE,
      clock: () => {
        rounds++;
        return now;
      },
      periodMs: 10,
      onReleased: (r) => released.push(...r.map((x) => x.instanceId)),
      onError: (err) => errors.push(err),
    });
    try {
      const waitRounds = async (n: number): Promise<void> => {
        const target = rounds + n;
        for (let i = 0; i < 1000 && rounds < target; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      await waitRounds(3);
      expect(released).toEqual([]);
      // Another writer holds the lock: due rounds are skipped, not waited out, and are no errors.
      t.db.exec('BEGIN IMMEDIATE');
      now = T0 + IDLE + 1;
      await waitRounds(3);
      expect(released).toEqual([]);
      t.db.exec('COMMIT');
      await waitRounds(3);
      expect(released).toEqual(['a']);
      expect(errors).toEqual([]);
    } finally {
      job.close();
    }
  });
});
