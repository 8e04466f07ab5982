import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxDeliverer, type DelivererOptions } from '../../src/notify/deliverer.js';
import { verifySignature } from '../../src/notify/signer.js';
import { claimAttempts, deliveriesOf, enqueueEvent, findEvent, retryEvent, type QueuedEvent } from '../../src/store/outbox.js';
import { freePort } from '../support/ports.js';
import { T0, tempDb, type TempDb } from '../store/temp-db.js';
import { captureLogger, type LogLine } from './capture-logger.js';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.js';

/*
 * The outbox deliverer against a real HTTP receiver on 127.0.0.1 and a real SQLite file. The
 * deliverer's clock is the test's, so backoff and maximum age are crossed by moving it; only the
 * HTTP exchanges take real (short) time.
 */

const SECRET = 'test-webhook-secret-0123456789';
const HOUR = 3_600_000;

let t: TempDb;
let now: number;
const receivers: WebhookReceiver[] = [];
const deliverers: OutboxDeliverer[] = [];
let log: ReturnType<typeof captureLogger>;

beforeEach(() => {
  t = tempDb('sipwarden-deliverer-');
  now = T0;
  log = captureLogger();
});
afterEach(async () => {
  for (const d of deliverers.splice(0)) await d.close();
  for (const r of receivers.splice(0)) await r.close();
  t.close();
});

async function receiver(options: Parameters<typeof startReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await startReceiver(options);
  receivers.push(r);
  return r;
}

function deliverer(webhooks: readonly string[], extra: Partial<DelivererOptions> = {}): OutboxDeliverer {
  const d = new OutboxDeliverer(t.db, {
    webhooks,
    secret: SECRET,
    retry: { baseDelayMs: 1000, maxDelayMs: 8000 },
    maxAgeMs: 72 * HOUR,
    timeoutMs: 2000,
    clock: () => now,
    logger: log.logger,
    random: () => 0.5,
    ...extra,
  });
  deliverers.push(d);
  return d;
}

function queue(type = 'license.renewed'): QueuedEvent {
  const eventId = randomUUID();
  return enqueueEvent(t.db, {
    eventId,
    type,
    rootGroup: 'Sunrise',
    source: 'operator',
    operator: 'tester',
    occurredAt: now,
    createdAt: now,
    payload: JSON.stringify({ id: eventId, type, rootGroup: 'Sunrise' }),
  });
}

function status(e: QueuedEvent): string | undefined {
  return findEvent(t.db, String(e.id))?.status;
}

function deliveryLines(): LogLine[] {
  return log.lines.filter((l) => l.msg === 'webhook delivery');
}

describe('OutboxDeliverer', () => {
  it('a 2xx delivers the event once: signed body, event headers, one log line; nothing is sent again', async () => {
    const r = await receiver();
    const e = queue();
    let refreshed = 0;
    const d = deliverer([r.url], { beforeSend: () => (refreshed += 1) });
    expect((await d.pass()).map((a) => [a.verdict, a.status, a.attempt, a.eventStatus])).toEqual([['delivered', 204, 1, 'delivered']]);
    expect(refreshed).toBe(1);
    const [req] = r.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/hooks/sipwarden');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-sipwarden-event-id']).toBe(e.eventId);
    expect(req?.headers['x-sipwarden-event-type']).toBe('license.renewed');
    expect(req?.headers['x-sipwarden-delivery-attempt']).toBe('1');
    expect(verifySignature(SECRET, req?.body ?? '', req?.headers['x-sipwarden-signature'] as string | undefined)).toBe(true);
    expect(JSON.parse(req?.body ?? '{}')).toMatchObject({ id: e.eventId });

    now += 10 * HOUR;
    expect(await d.pass()).toEqual([]);
    expect(await deliverer([r.url]).pass()).toEqual([]);
    expect(r.requests).toHaveLength(1);
    expect(status(e)).toBe('delivered');
    expect(deliveryLines()).toEqual([
      expect.objectContaining({ level: 30, eventId: e.eventId, type: 'license.renewed', group: 'Sunrise', attempt: 1, status: 204, outcome: 'delivered', target: r.url }),
    ]);
    expect(log.text()).not.toContain(SECRET);
  });

  it('connection refused, then 500s: retried with growing backoff, delivered once the receiver recovers', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hook`;
    const e = queue();
    const d = deliverer([url]);

    const [refused] = await d.pass();
    expect(refused).toMatchObject({ verdict: 'retry', status: null, attempt: 1, eventStatus: 'pending' });
    expect(refused?.error).toMatch(/ECONNREFUSED/);
    // attempt 1: d = 1000, jitter 0.5 -> 750 ms.
    expect(refused?.nextAttemptAt).toBe(now + 750);
    expect(await d.pass()).toEqual([]);

    const r = await receiver({ port, path: '/hook', responder: (_req, i) => (i < 2 ? 500 : 200) });
    const delays: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const next = findEvent(t.db, String(e.id))?.nextAttemptAt ?? 0;
      delays.push(next - now);
      now = next;
      await d.pass();
    }
    expect(delays).toEqual([750, 1500, 3000]);
    expect(r.requests.map((q) => q.headers['x-sipwarden-delivery-attempt'])).toEqual(['2', '3', '4']);
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
    expect(status(e)).toBe('delivered');
    expect(findEvent(t.db, String(e.id))?.attempts).toBe(4);
    expect(deliveryLines().map((l) => [l.attempt, l.status, l.outcome])).toEqual([
      [1, null, 'retry'],
      [2, 500, 'retry'],
      [3, 500, 'retry'],
      [4, 200, 'delivered'],
    ]);
    expect(deliveryLines().filter((l) => l.outcome === 'retry').every((l) => l.level === 40)).toBe(true);
  });

  it('a 400 is given up as failed and never retried by itself; events retry sends it again', async () => {
    const r = await receiver({ responder: (_q, i) => (i === 0 ? 400 : 200) });
    const e = queue();
    const d = deliverer([r.url]);
    expect((await d.pass()).map((a) => [a.verdict, a.status, a.eventStatus])).toEqual([['failed', 400, 'failed']]);
    now += 100 * HOUR;
    expect(await d.pass()).toEqual([]);
    expect(status(e)).toBe('failed');
    expect(findEvent(t.db, String(e.id))).toMatchObject({ lastStatus: 400, lastError: 'HTTP 400' });

    expect(retryEvent(t.db, String(e.id), { now, operator: 'tester' }).ok).toBe(true);
    expect((await d.pass()).map((a) => [a.verdict, a.attempt])).toEqual([['delivered', 1]]);
    expect(r.requests).toHaveLength(2);
    expect(retryEvent(t.db, e.eventId, { now, operator: 'tester' })).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
  });

  it('408 and 429 are retried; Retry-After is honoured up to the maximum delay', async () => {
    const r = await receiver({
      responder: (_q, i) => (i === 0 ? 408 : i === 1 ? { status: 429, headers: { 'Retry-After': '5' } } : { status: 429, headers: { 'Retry-After': '3600' } }),
    });
    queue();
    const d = deliverer([r.url]);
    const first = await d.pass();
    expect(first.map((a) => [a.verdict, a.status])).toEqual([['retry', 408]]);
    now = first[0]?.nextAttemptAt ?? now;
    const second = await d.pass();
    expect(second.map((a) => [a.verdict, a.status, (a.nextAttemptAt ?? 0) - now])).toEqual([['retry', 429, 5000]]);
    now = second[0]?.nextAttemptAt ?? now;
    const third = await d.pass();
    expect(third.map((a) => [a.verdict, (a.nextAttemptAt ?? 0) - now])).toEqual([['retry', 8000]]);
  });

  it('an event not delivered within the maximum age is marked dead without another attempt', async () => {
    const r = await receiver({ responder: () => 503 });
    const e = queue();
    const d = deliverer([r.url], { maxAgeMs: HOUR, retry: { baseDelayMs: 20 * 60_000, maxDelayMs: 40 * 60_000 } });
    const due: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await d.pass();
      now = findEvent(t.db, String(e.id))?.nextAttemptAt ?? 0;
      due.push((now - T0) / 60_000);
    }
    // 15 and 45 minutes in; the third backoff would pass the maximum age, so it is due at 60 and finds the event dead.
    expect(due).toEqual([15, 45, 60]);
    expect(await d.pass()).toEqual([]);
    expect(status(e)).toBe('dead');
    expect(r.requests).toHaveLength(3);
    expect(log.lines.filter((l) => l.msg === 'webhook event dead')).toEqual([expect.objectContaining({ eventId: e.eventId, level: 40 })]);

    r.respond(() => 200);
    now += HOUR;
    expect(retryEvent(t.db, String(e.id), { now, operator: 'tester' }).ok).toBe(true);
    expect((await d.pass()).map((a) => a.verdict)).toEqual(['delivered']);
  });

  it('two webhooks: the one that answered 2xx never gets the event again', async () => {
    const a = await receiver();
    const b = await receiver({ responder: (_q, i) => (i === 0 ? 500 : 200) });
    const e = queue();
    const d = deliverer([a.url, b.url]);
    expect((await d.pass()).map((x) => [x.target, x.verdict, x.eventStatus]).sort()).toEqual(
      [
        [a.url, 'delivered', 'pending'],
        [b.url, 'retry', 'pending'],
      ].sort(),
    );
    now += HOUR;
    expect((await d.pass()).map((x) => [x.target, x.verdict, x.eventStatus])).toEqual([[b.url, 'delivered', 'delivered']]);
    expect([a.requests.length, b.requests.length]).toEqual([1, 2]);
    expect(deliveriesOf(t.db, e.id).map((x) => x.status)).toEqual(['delivered', 'delivered']);
  });

  it('no answer within the timeout is retried; an attempt lost in a crash is sent again once its lease ends', async () => {
    const r = await receiver({ responder: (_q, i) => (i === 0 ? 'hang' : 200) });
    queue();
    const d = deliverer([r.url], { timeoutMs: 300 });
    const [timedOut] = await d.pass();
    expect(timedOut).toMatchObject({ verdict: 'retry', status: null });
    expect(timedOut?.error).toMatch(/no answer within 300 ms/);

    // A daemon claimed this one and was killed before it recorded the answer.
    const lost = queue();
    claimAttempts(t.db, lost.id, [r.url], now, now + 300 + 1000);
    now += 1000;
    const soon = await d.pass();
    expect(soon.map((x) => x.eventId)).not.toContain(lost.eventId);
    now += 300;
    const later = await d.pass();
    expect(later.filter((x) => x.eventId === lost.eventId).map((x) => [x.verdict, x.attempt])).toEqual([['delivered', 2]]);
  });
});
