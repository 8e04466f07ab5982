import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemindRepeat } from '../../src/policy/remind-repeat.js';
import { LifecycleScheduler } from '../../src/notify/scheduler.js';
import { claimInstall, recordRefusedInstall } from '../../src/store/app-installs.js';
import { openDatabase } from '../../src/store/database.js';
import { addGroup } from '../../src/store/groups.js';
import { formatIsoUtc } from '../../src/shared/iso-time.js';
import { licenseReport } from '../../src/store/license-report.js';
import { setLicenses, type LicenseChange } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import { enqueueEvent, listEvents, type OutboxEvent } from '../../src/store/outbox.js';
import { addUser } from '../../src/store/users.js';
import { count, DAY, ok, T0, tempDb, type TempDb } from '../store/temp-db.js';

/*
 * The scheduler as a step over a real SQLite file: tick(now) with times chosen by the test, so
 * days pass without waiting. Every transition is written once — also across a "restart" (a new
 * scheduler on the same file) and when the daemon was down while it happened.
 */

const HOUR = 3_600_000;
const FROM = T0 + 10 * DAY;
const UNTIL = T0 + 100 * DAY;

let t: TempDb;

function at(ms: number): { now: number; operator: string } {
  return { now: ms, operator: 'tester' };
}

function project(change: LicenseChange = {}): void {
  ok(addGroup(t.db, { name: 'Sunrise' }, at(T0)));
  ok(
    setLicenses(
      t.db,
      'Sunrise',
      { restrictions: true, virtualNumbers: 5, mobileApps: 2, validity: true, validFrom: FROM, validUntil: UNTIL, ...change },
      at(T0),
    ),
  );
  ok(addUser(t.db, { login: 'alice', group: 'Sunrise' }, at(T0)));
  ok(addNumber(t.db, { number: '1001', login: 'alice' }, at(T0)));
  ok(addNumber(t.db, { number: '1002', login: 'alice' }, at(T0)));
}

function events(type?: string): OutboxEvent[] {
  return listEvents(t.db).filter((e) => type === undefined || e.type === type);
}

function payload(e: OutboxEvent | undefined): Record<string, unknown> {
  if (!e) throw new Error('no event');
  return JSON.parse(e.payload) as Record<string, unknown>;
}

/** Ticks from `from` to `to` every `step`, as the daemon would (coarser, to keep the test quick). */
function run(s: LifecycleScheduler, from: number, to: number, step = HOUR): void {
  for (let now = from; now <= to; now += step) s.tick(now);
}

beforeEach(() => {
  t = tempDb('sipwarden-lifecycle-');
});
afterEach(() => t.close());

describe('time-driven transitions', () => {
  it('activates at validFrom and expires at validUntil, each exactly once, also after a restart', () => {
    project();
    const s = new LifecycleScheduler(t.db);
    s.tick(FROM - 1);
    expect(events('license.activated')).toHaveLength(0);
    expect(s.tick(FROM).written.map((e) => e.type)).toEqual(['license.activated']);
    s.tick(FROM + 1);
    new LifecycleScheduler(t.db).tick(FROM + 2);
    run(new LifecycleScheduler(t.db), FROM, UNTIL + DAY, 6 * HOUR);
    const lifecycle = listEvents(t.db).filter((e) => e.type === 'license.activated' || e.type === 'license.expired');
    expect(lifecycle.map((e) => [e.type, formatIsoUtc(e.occurredAt), e.source])).toEqual([
      ['license.activated', formatIsoUtc(FROM), 'scheduler'],
      ['license.expired', formatIsoUtc(UNTIL), 'scheduler'],
    ]);
    expect(payload(lifecycle[1])).toMatchObject({ window: { previousState: 'active', state: 'expired' }, rootGroup: 'Sunrise' });
  });

  it('announces a transition that happened while the daemon was down when it starts, with the time it happened', () => {
    project();
    new LifecycleScheduler(t.db).tick(FROM + DAY);
    // Down from day 11 to day 150: started again long after validUntil.
    const written = new LifecycleScheduler(t.db).tick(T0 + 150 * DAY).written;
    expect(written.map((e) => e.type)).toEqual(['license.expired']);
    const expired = events('license.expired')[0];
    expect(expired?.occurredAt).toBe(UNTIL);
    expect(expired?.createdAt).toBe(T0 + 150 * DAY);
  });

  it('down across the whole window: expired only, never a late activation', () => {
    project();
    new LifecycleScheduler(t.db).tick(T0 + DAY);
    new LifecycleScheduler(t.db).tick(T0 + 200 * DAY);
    expect(events().filter((e) => e.source === 'scheduler').map((e) => e.type)).toEqual(['license.expired']);
  });

  it('records a group it sees for the first time without an event', () => {
    ok(addGroup(t.db, { name: 'Harbour' }, at(T0)));
    const s = new LifecycleScheduler(t.db);
    expect(s.tick(T0).written).toEqual([]);
    expect(count(t.db, 'license_lifecycle')).toBe(1);
    expect(count(t.db, 'outbox')).toBe(0);
  });

  it('notices a change made through another connection although nothing was due (the CLI shortens the window)', () => {
    project();
    const s = new LifecycleScheduler(t.db);
    s.tick(FROM + DAY);
    expect(s.tick(FROM + DAY).scanned).toBe(false);
    const other = openDatabase(t.path);
    try {
      ok(setLicenses(other, 'Sunrise', { validUntil: FROM + DAY + 1000 }, at(FROM + DAY)));
    } finally {
      other.close();
    }
    expect(s.tick(FROM + DAY + 500).scanned).toBe(true);
    expect(s.tick(FROM + DAY + 1000).written.map((e) => e.type)).toEqual(['license.expired']);
  });
});

describe('reminders (license.expiring)', () => {
  const cases: readonly [RemindRepeat, number, readonly number[]][] = [
    ['once', 30, [70]],
    ['weekly', 30, [70, 77, 84, 91, 98]],
    ['daily', 3, [97, 98, 99]],
  ];
  for (const [repeat, days, expected] of cases) {
    it(`${repeat}, ${days} days before: at ${expected.join(', ')} (days after T0), at the lead time and never after expiry`, () => {
      project({ remindDays: days, remindRepeat: repeat });
      run(new LifecycleScheduler(t.db), T0, UNTIL + 2 * DAY);
      const reminders = events('license.expiring');
      expect(reminders.map((e) => (e.occurredAt - T0) / DAY)).toEqual(expected);
      // Written within the tick that reached the reminder time (ticks are an hour apart here).
      for (const r of reminders) expect(r.createdAt - r.occurredAt).toBeLessThan(HOUR);
      expect(payload(reminders[0])).toMatchObject({
        type: 'license.expiring',
        reminder: { validUntil: formatIsoUtc(UNTIL), remindDays: days, repeat },
      });
    });
  }

  it('monthly: on the same day of each calendar month from the lead time', () => {
    const until = Date.UTC(2026, 6, 1);
    project({ validFrom: T0, validUntil: until, remindDays: 90, remindRepeat: 'monthly' });
    run(new LifecycleScheduler(t.db), T0, until + DAY, 6 * HOUR);
    expect(events('license.expiring').map((e) => formatIsoUtc(e.occurredAt))).toEqual([
      '2026-04-02T00:00:00Z',
      '2026-05-02T00:00:00Z',
      '2026-06-02T00:00:00Z',
    ]);
  });

  it('after downtime sends one reminder for the latest missed time, not a burst', () => {
    project({ remindDays: 30, remindRepeat: 'weekly' });
    new LifecycleScheduler(t.db).tick(T0 + 60 * DAY);
    new LifecycleScheduler(t.db).tick(T0 + 85 * DAY);
    expect(events('license.expiring').map((e) => (e.occurredAt - T0) / DAY)).toEqual([84]);
  });

  it('a reminder already sent is not sent again after a restart; an extended window reminds again', () => {
    project({ remindDays: 30 });
    new LifecycleScheduler(t.db).tick(T0 + 71 * DAY);
    new LifecycleScheduler(t.db).tick(T0 + 72 * DAY);
    expect(events('license.expiring')).toHaveLength(1);
    ok(setLicenses(t.db, 'Sunrise', { validUntil: UNTIL + 60 * DAY }, at(T0 + 72 * DAY)));
    const s = new LifecycleScheduler(t.db);
    s.tick(T0 + 72 * DAY + 1);
    expect(events('license.expiring')).toHaveLength(1);
    s.tick(UNTIL + 30 * DAY);
    expect(events('license.expiring').map((e) => (e.occurredAt - T0) / DAY)).toEqual([70, 130]);
  });

  it('licenses show reports the next transition and the last reminder', () => {
    project({ remindDays: 30, remindRepeat: 'weekly' });
    const s = new LifecycleScheduler(t.db);
    expect(licenseReport(t.db, 'Sunrise', T0)).toMatchObject({
      nextTransition: { event: 'license.activated', at: formatIsoUtc(FROM) },
      reminder: { days: 30, repeat: 'weekly', lastSentAt: null, nextAt: formatIsoUtc(T0 + 70 * DAY) },
    });
    s.tick(T0 + 70 * DAY + 5000);
    expect(licenseReport(t.db, 'Sunrise', T0 + 71 * DAY)).toMatchObject({
      nextTransition: { event: 'license.expired', at: formatIsoUtc(UNTIL) },
      reminder: { lastSentAt: formatIsoUtc(T0 + 70 * DAY + 5000), nextAt: formatIsoUtc(T0 + 77 * DAY) },
    });
  });
});

describe('operator changes (setLicenses)', () => {
  function expire(): void {
    project();
    const s = new LifecycleScheduler(t.db);
    s.tick(FROM);
    s.tick(UNTIL);
  }

  const install = (id: string, number: string, prid: string) => ({
    instanceId: id,
    number,
    pnProvider: 'apns',
    pnPrid: prid,
    pnParam: 'TEAM.com.example.voip',
    contact: null,
    userAgent: 'IntercomApp/2.4',
    now: UNTIL + HOUR,
  });

  it('extending an expired window writes one license.renewed listing every install, the refused ones too', () => {
    expire();
    claimInstall(t.db, install('urn:uuid:licensed', '1001', 'token-licensed'));
    recordRefusedInstall(t.db, install('urn:uuid:refused', '1002', 'token-refused'));
    const update = ok(setLicenses(t.db, 'Sunrise', { validUntil: UNTIL + 365 * DAY }, at(UNTIL + 2 * HOUR)));
    expect(update.events.map((e) => e.type)).toEqual(['license.renewed', 'license.limits-changed']);
    const renewed = events('license.renewed');
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({ source: 'operator', operator: 'tester', occurredAt: UNTIL + 2 * HOUR });
    const body = payload(renewed[0]);
    expect(body).toMatchObject({ id: renewed[0]?.eventId, window: { previousState: 'expired', state: 'active' } });
    expect(body.installs).toEqual([
      { instanceId: 'urn:uuid:licensed', number: '1001', user: 'alice', licensed: true, push: { 'pn-provider': 'apns', 'pn-prid': 'token-licensed', 'pn-param': 'TEAM.com.example.voip' } },
      { instanceId: 'urn:uuid:refused', number: '1002', user: 'alice', licensed: false, push: { 'pn-provider': 'apns', 'pn-prid': 'token-refused', 'pn-param': 'TEAM.com.example.voip' } },
    ]);
    // The scheduler does not announce the reopening a second time (as activated or otherwise).
    run(new LifecycleScheduler(t.db), UNTIL + 2 * HOUR, UNTIL + 3 * DAY);
    expect(events().filter((e) => e.createdAt > UNTIL + HOUR).map((e) => e.type)).toEqual(['license.renewed', 'license.limits-changed']);
  });

  it('a change after an expiry the daemon has not announced yet writes expired first, then renewed', () => {
    project();
    new LifecycleScheduler(t.db).tick(FROM);
    const update = ok(setLicenses(t.db, 'Sunrise', { validUntil: UNTIL + DAY }, at(UNTIL + HOUR)));
    expect(update.events.map((e) => [e.type, e.rootGroup])).toEqual([
      ['license.expired', 'Sunrise'],
      ['license.renewed', 'Sunrise'],
      ['license.limits-changed', 'Sunrise'],
    ]);
    expect(events('license.expired')[0]).toMatchObject({ source: 'scheduler', occurredAt: UNTIL });
  });

  it('turning restrictions off for a blocked group is a renewal; closing an open window is an expiry', () => {
    expire();
    expect(ok(setLicenses(t.db, 'Sunrise', { restrictions: false }, at(UNTIL + HOUR))).events.map((e) => e.type)).toEqual([
      'license.renewed',
      'license.limits-changed',
    ]);
    expect(ok(setLicenses(t.db, 'Sunrise', { restrictions: true }, at(UNTIL + 2 * HOUR))).events.map((e) => e.type)).toEqual([
      'license.expired',
      'license.limits-changed',
    ]);
    expect(events('license.expired').at(-1)).toMatchObject({ source: 'operator' });
  });

  it('license.limits-changed carries the settings before and after and what changed; a reminder change alone is silent', () => {
    project();
    const update = ok(setLicenses(t.db, 'Sunrise', { virtualNumbers: 8, mobileApps: 4 }, at(T0 + HOUR)));
    expect(update.events.map((e) => e.type)).toEqual(['license.limits-changed']);
    const body = payload(events('license.limits-changed').at(-1));
    expect(body).toMatchObject({ changed: ['virtualNumbers', 'mobileApps'], before: { virtualNumbers: 5, mobileApps: 2 }, license: { virtualNumbers: 8, mobileApps: 4 } });
    expect(body.installs).toBeUndefined();
    expect(ok(setLicenses(t.db, 'Sunrise', { remindDays: 10, remindRepeat: 'daily' }, at(T0 + HOUR))).events).toEqual([]);
  });

  it('a refused change writes no event', () => {
    expire();
    const before = count(t.db, 'outbox');
    expect(setLicenses(t.db, 'Sunrise', { validUntil: FROM - DAY }, at(UNTIL + HOUR)).ok).toBe(false);
    expect(count(t.db, 'outbox')).toBe(before);
  });
});

describe('announcing outbox events (onEvent)', () => {
  function enqueue(db: typeof t.db, n: number, from = 0): void {
    db.transaction(() => {
      for (let i = from; i < from + n; i++) {
        enqueueEvent(db, { eventId: `e-${i}`, type: 'license.renewed', rootGroup: 'Sunrise', source: 'operator', operator: 'tester', occurredAt: T0, createdAt: T0, payload: '{}' });
      }
    })();
  }

  it('tells each event once, whichever connection wrote it, and every event of a burst larger than one batch', () => {
    project();
    const told: string[] = [];
    const s = new LifecycleScheduler(t.db, { onEvent: (e) => told.push(e.eventId) });
    s.tick(T0); // the scheduler's own first events, if any
    told.length = 0;
    s.tick(T0);
    expect(told).toEqual([]);
    // Another connection (the CLI): seen through data_version.
    const other = openDatabase(t.path);
    try {
      enqueue(other, 1);
    } finally {
      other.close();
    }
    s.tick(T0);
    s.tick(T0);
    expect(told).toEqual(['e-0']);
    // This connection: seen through total_changes.
    enqueue(t.db, 1, 1);
    s.tick(T0);
    expect(told).toEqual(['e-0', 'e-1']);
    // 2,500 at once: 1,000 a tick, none lost although nothing is written after the burst.
    enqueue(t.db, 2500, 2);
    for (let i = 0; i < 4; i++) s.tick(T0);
    expect(told).toHaveLength(2502);
    expect(new Set(told).size).toBe(2502);
    // The scheduler's own events, written by a scan.
    const written = s.tick(FROM).written;
    expect(written.length).toBeGreaterThan(0);
    expect(told.slice(2502)).toEqual(written.map((e) => e.eventId));
  });
});
