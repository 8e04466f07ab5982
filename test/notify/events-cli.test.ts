import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { claimAttempts, recordAttempt } from '../../src/store/outbox.js';
import { CliWorld, killRunning, oneErrorLine } from '../cli/cli-harness.js';

/*
 * The operator's side, through the built CLI: --remind-repeat, the lifecycle lines of
 * 'licenses show', the events an operator's change queues, 'events list' and 'events retry'.
 */

interface EventJson {
  id: number;
  eventId: string;
  type: string;
  group: string;
  source: string;
  operator: string | null;
  status: string;
  deliveries: { target: string; status: string; lastStatus: number | null }[];
  payload: { id: string; type: string; installs?: unknown[]; window: { previousState: string; state: string } };
}

let w: CliWorld;
const TARGET = 'http://127.0.0.1:9/hooks/x?token=abc';

/** Plays the daemon's part on the file: one attempt at `target` with the given verdict. */
function attempt(outboxId: number, verdict: 'delivered' | 'failed', status: number): void {
  const db = openDatabase(w.db);
  try {
    const now = Date.now();
    claimAttempts(db, outboxId, [TARGET], now, now + 1000);
    recordAttempt(db, outboxId, TARGET, { at: now, verdict, status, error: verdict === 'failed' ? `HTTP ${status}` : null, nextAttemptAt: now }, [TARGET]);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  w = await new CliWorld().init();
  await w.ok(['group', 'add', 'Sunrise']);
}, 30_000);
afterAll(() => {
  killRunning();
  w.remove();
});

describe('licenses set / show with the lifecycle', () => {
  it('closing the window queues license.expired and limits-changed; --remind-repeat is shown as a change', async () => {
    const out = await w.ok([
      'licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '3', '--apps', '2',
      '--valid-from', '2020-01-01', '--valid-until', '2021-01-01', '--remind-days', '30', '--remind-repeat', 'weekly',
    ]);
    expect(out).toContain('remindRepeat: once -> weekly');
    expect(out).toMatch(/Queued license\.expired for the push gateway \(event 1, id [0-9a-f-]{36}\)\./);
    expect(out).toMatch(/Queued license\.limits-changed for the push gateway \(event 2, /);
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({
      validity: { state: 'expired' },
      reminder: { days: 30, repeat: 'weekly', lastSentAt: null, nextAt: null },
    });
  });

  it('extending it queues license.renewed; show gives the next transition and the next reminder', async () => {
    expect(await w.ok(['licenses', 'set', 'Sunrise', '--valid-until', '2100-01-01'])).toMatch(/Queued license\.renewed .*\(event 3, /);
    const report = await w.json<Record<string, unknown>>(['licenses', 'show', 'Sunrise']);
    expect(report).toMatchObject({
      group: 'Sunrise',
      validity: { enabled: true, state: 'active', validUntil: '2100-01-01T00:00:00Z' },
      nextTransition: { event: 'license.expired', at: '2100-01-01T00:00:00Z' },
      reminder: { days: 30, repeat: 'weekly', lastSentAt: null, nextAt: '2099-12-02T00:00:00Z' },
    });
    const text = await w.ok(['licenses', 'show', 'Sunrise']);
    expect(text).toMatch(/Next transition:\s+expires at 2100-01-01T00:00:00Z \(in \d+ d \d+ h\): license\.expired/);
    expect(text).toContain('Reminder:         30 days before the end, repeat weekly; last sent never; next 2099-12-02T00:00:00Z');
  });

  it('refuses an unknown repeat', async () => {
    const r = await w.run(['licenses', 'set', 'Sunrise', '--remind-repeat', 'hourly']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--remind-repeat <repeat>' argument 'hourly' is invalid\. Allowed choices are once, daily, weekly, monthly/);
  });
});

describe('events list / retry', () => {
  it('lists the queued events oldest first, as JSON with payloads and as text', async () => {
    const events = await w.json<EventJson[]>(['events', 'list']);
    expect(events.map((e) => [e.id, e.type, e.group, e.source, e.operator, e.status])).toEqual([
      [1, 'license.expired', 'Sunrise', 'operator', 'admin', 'pending'],
      [2, 'license.limits-changed', 'Sunrise', 'operator', 'admin', 'pending'],
      [3, 'license.renewed', 'Sunrise', 'operator', 'admin', 'pending'],
      [4, 'license.limits-changed', 'Sunrise', 'operator', 'admin', 'pending'],
    ]);
    const renewed = events[2];
    expect(renewed?.payload).toMatchObject({ id: renewed?.eventId, type: 'license.renewed', installs: [], window: { previousState: 'expired', state: 'active' } });
    const text = await w.ok(['events', 'list', '--group', 'Sunrise']);
    expect(text.split('\n')[0]).toMatch(/^ID\s+TYPE\s+GROUP\s+STATUS\s+ATTEMPTS\s+CREATED\s+NEXT ATTEMPT\s+LAST$/);
    expect(text).toMatch(/\n3\s+license\.renewed\s+Sunrise\s+pending\s+0\s+\S+Z\s+\S+Z/);
    expect(await w.ok(['events', 'list', '--status', 'failed'])).toBe('(none)\n');
    expect(await w.json<unknown[]>(['events', 'list', '--group', 'Elsewhere'])).toEqual([]);
    expect((await w.json<EventJson[]>(['events', 'list', '--limit', '2'])).map((e) => e.id)).toEqual([3, 4]);
  });

  it('retries a failed event; refuses a delivered one and an unknown id', async () => {
    attempt(1, 'failed', 400);
    const failed = await w.json<EventJson[]>(['events', 'list', '--status', 'failed']);
    expect(failed.map((e) => [e.id, e.status, e.deliveries])).toEqual([
      [1, 'failed', [expect.objectContaining({ target: 'http://127.0.0.1:9/hooks/x', status: 'failed', lastStatus: 400 })]],
    ]);
    expect(await w.ok(['events', 'retry', '1'])).toBe(
      "Event 1 (license.expired, Sunrise) is pending again; the daemon delivers it within its next tick.\n",
    );
    expect((await w.json<EventJson[]>(['events', 'list', '--status', 'pending'])).map((e) => e.id)).toContain(1);
    expect(w.query<{ action: string; target: string }>("SELECT action, target FROM audit_log WHERE action = 'events.retry'")).toHaveLength(1);

    attempt(2, 'delivered', 200);
    const events = await w.json<EventJson[]>(['events', 'list', '--status', 'delivered']);
    const delivered = await w.run(['events', 'retry', events[0]?.eventId ?? '?']);
    expect(delivered.code).toBe(2);
    expect(oneErrorLine(delivered)).toMatch(/^sipwarden: ID: event 2 \(license\.limits-changed\) was delivered at \S+; a delivered event is never sent again$/);
    const unknown = await w.run(['events', 'retry', '999']);
    expect(unknown.code).toBe(2);
    expect(oneErrorLine(unknown)).toBe("sipwarden: ID: event '999' does not exist; see 'sipwarden events list'");
  });

  it('needs licenses:edit (and users:edit to list: payloads carry push parameters); a bad status is bad input', async () => {
    const reader = await w.operator('reader');
    const denied = await w.run(['events', 'list'], reader);
    expect(denied.code).toBe(3);
    expect(oneErrorLine(denied)).toMatch(/may not events\.list: it needs the permissions licenses:edit .*, users:edit /);
    const retry = await w.run(['events', 'retry', '1'], reader);
    expect(retry.code).toBe(3);
    const bad = await w.run(['events', 'list', '--status', 'lost']);
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/--status <status>' argument 'lost' is invalid/);
  });
});
