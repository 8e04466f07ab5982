import { afterEach, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/sip/proxy/gate.js';
import { FORWARD } from '../../src/sip/proxy/gate.js';
import { startHarness, type Harness } from './harness.js';
import { header, invite, register, response, startLine } from './messages.js';
import type { Received } from './peers.js';

/**
 * Issue 8 item 7: past capacity, new REGISTERs and initial INVITEs are refused with 503 and a
 * random Retry-After on the measured receive-queue delay; in-dialog requests, ACK, CANCEL, BYE,
 * responses and the upstream's requests never are. Real UDP on loopback: a gate that takes 2 ms
 * per request makes the proxy's capacity 500 requests/s, and the client offers ten times that.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Busy for `ms`: the cost of an expensive decision, on the proxy's one thread. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burning CPU on purpose
  }
}

const slowGate = (): Verdict => {
  spin(2);
  return FORWARD;
};

async function overloadedHarness(): Promise<Harness> {
  const h = await startHarness({ gate: slowGate, overload: { enabled: true, targetDelayMs: 20, retryAfter: { min: 5, max: 20 } } });
  cleanups.push(() => h.close());
  return h;
}

const BURSTS = 25;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything a peer receives until nothing more comes for `quietMs` (bounded by `maxMs`). */
async function drain(next: () => Promise<Received>, pending: () => number, quietMs: number, maxMs: number): Promise<Received[]> {
  const out: Received[] = [];
  const started = Date.now();
  let lastAt = Date.now();
  while (Date.now() - started < maxMs && Date.now() - lastAt < quietMs) {
    if (pending() > 0) {
      out.push(await next());
      lastAt = Date.now();
    } else {
      await pause(10);
    }
  }
  return out;
}

describe('load shedding (issue 8 item 7)', () => {
  it('refuses new REGISTERs and initial INVITEs with 503 past capacity, and nothing that belongs to accepted work', async () => {
    const h = await overloadedHarness();
    const { client, upstream, port } = h;
    const inDialog: string[] = [];
    let sent = 0;
    // Bursts of 50 requests every 10 ms: some ten times the capacity.
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let k = 0; k < 45; k++, sent++) client.send(register({ callId: `flood-${sent}`, branch: `z9hG4bK-f${sent}` }), port);
      const n = burst;
      client.send(invite({ callId: `call-${n}`, branch: `z9hG4bK-c${n}` }), port);
      // What belongs to accepted work: in-dialog INVITE and BYE, CANCEL, an ACK of a 2xx.
      const dialog = { callId: `dlg-${n}`, branch: `z9hG4bK-d${n}`, toTag: 'uas1' };
      client.send(invite(dialog), port);
      client.send(invite({ ...dialog, branch: `z9hG4bK-b${n}`, cseq: 2 }, [], 'BYE'), port);
      client.send(invite({ ...dialog, branch: `z9hG4bK-a${n}` }, [], 'ACK'), port);
      client.send(invite({ callId: `cancelled-${n}`, branch: `z9hG4bK-x${n}` }, [], 'CANCEL'), port);
      inDialog.push(`dlg-${n}`, `cancelled-${n}`);
      await pause(10);
    }
    // The upstream answers everything it got; the client gets those answers and the 503s.
    const atUpstream = await drain(() => upstream.next(), () => upstream.pending, 1000, 20_000);
    for (const r of atUpstream) if (startLine(r.text).startsWith('REGISTER')) upstream.send(response(r.text, 200, 'OK'), port);
    const atClient = await drain(() => client.next(), () => client.pending, 1000, 20_000);

    const refusals = atClient.filter((r) => startLine(r.text) === 'SIP/2.0 503 Service Unavailable');
    const refusedMethods = new Set(refusals.map((r) => header(r.text, 'CSeq')?.split(' ')[1]));
    expect(refusals.length).toBeGreaterThan(0);
    expect(h.proxy.stats.shed).toBe(refusals.length);
    expect([...refusedMethods].every((m) => m === 'REGISTER' || m === 'INVITE')).toBe(true);
    // Only initial INVITEs (no To tag) are refused.
    expect(refusals.every((r) => header(r.text, 'Call-ID')?.startsWith('dlg-') !== true)).toBe(true);
    const retryAfter = refusals.map((r) => Number(header(r.text, 'Retry-After')));
    expect(retryAfter.every((s) => Number.isInteger(s) && s >= 5 && s <= 20)).toBe(true);
    expect(new Set(retryAfter).size).toBeGreaterThan(1);
    expect(refusals.every((r) => header(r.text, 'X-Sipwarden-Reason') === 'overload')).toBe(true);

    // Every in-dialog request, BYE, ACK and CANCEL reached the upstream.
    const forwarded = atUpstream.map((r) => `${startLine(r.text).split(' ')[0]} ${header(r.text, 'Call-ID')}`);
    for (let n = 0; n < BURSTS; n++) {
      for (const method of ['INVITE', 'BYE', 'ACK']) expect(forwarded).toContain(`${method} dlg-${n}`);
      expect(forwarded).toContain(`CANCEL cancelled-${n}`);
    }
    // Every REGISTER was either forwarded (and its 200 relayed back) or refused: none was lost.
    const registersForwarded = forwarded.filter((f) => f.startsWith('REGISTER')).length;
    const oks = atClient.filter((r) => startLine(r.text) === 'SIP/2.0 200 OK' && header(r.text, 'CSeq')?.endsWith('REGISTER')).length;
    const registersRefused = refusals.filter((r) => header(r.text, 'CSeq')?.endsWith('REGISTER')).length;
    expect(oks).toBe(registersForwarded);
    expect(registersForwarded + registersRefused).toBe(sent);
    expect(registersForwarded).toBeGreaterThan(0);
    expect(h.proxy.stats.responsesForwarded).toBe(oks);
  });

  it('never sheds the retransmission of an INVITE it let through (RFC 3261 §16.11: decided as the original)', async () => {
    const h = await overloadedHarness();
    const { client, upstream, port } = h;
    // Twenty calls set up while the proxy is calm: forwarded.
    const ORIGINALS = 20;
    const original = (i: number): string => invite({ callId: `orig-${i}`, branch: `z9hG4bK-o${i}` });
    for (let i = 0; i < ORIGINALS; i++) client.send(original(i), port);
    // Up to 2 s of quiet: on a busy machine the first requests of a fresh proxy may take a while.
    const first = await drain(() => upstream.next(), () => upstream.pending, 2000, 10_000);
    expect(first.filter((r) => header(r.text, 'Call-ID')?.startsWith('orig-'))).toHaveLength(ORIGINALS);
    // Then a flood, with the clients of those calls retransmitting their INVITEs through it (their
    // 200 is late: what a client does past T1 while the proxy is overloaded).
    let sent = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let k = 0; k < 45; k++, sent++) client.send(register({ callId: `flood-${sent}`, branch: `z9hG4bK-f${sent}` }), port);
      if (burst >= 5) for (let i = 0; i < ORIGINALS; i++) client.send(original(i), port);
      await pause(10);
    }
    const atClient = await drain(() => client.next(), () => client.pending, 1000, 30_000);
    const refusals = atClient.filter((r) => startLine(r.text) === 'SIP/2.0 503 Service Unavailable');
    expect(refusals.length).toBeGreaterThan(0); // the proxy did shed during the retransmissions
    const refusedCalls = refusals.map((r) => header(r.text, 'Call-ID') ?? '').filter((c) => c.startsWith('orig-'));
    expect(refusedCalls).toEqual([]);
    const again = await drain(() => upstream.next(), () => upstream.pending, 500, 30_000);
    // Forwarded again (as many as the kernel did not drop at a full socket).
    expect(again.filter((r) => header(r.text, 'Call-ID')?.startsWith('orig-')).length).toBeGreaterThan(0);
  });

  it('absorbs the ACK of a refused INVITE, never refuses the upstream, and stops shedding once the queue is gone', async () => {
    const h = await overloadedHarness();
    const { client, upstream, port } = h;
    // The client registers first; the registrar routes calls to it through the Path (RFC 3327).
    client.send(register({ callId: 'reg-first', branch: 'z9hG4bK-reg1' }), port);
    const path = header((await upstream.next()).text, 'Path') ?? '';
    expect(path).toMatch(/^<sip:[^@]+@127\.0\.0\.1:\d+;transport=udp;lr>$/);
    let sent = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let k = 0; k < 40; k++, sent++) client.send(invite({ callId: `inv-${sent}`, branch: `z9hG4bK-i${sent}` }), port);
      // A call from the upstream (a door panel registered there) to the client: never refused.
      upstream.send(
        invite({ callId: `from-up-${burst}`, branch: `z9hG4bK-u${burst}`, sentBy: `127.0.0.1:${upstream.port}` }, [`Route: ${path}`]).replace(
          'INVITE sip:1002@intercom.example SIP/2.0',
          `INVITE sip:1001@127.0.0.1:${client.port} SIP/2.0`,
        ),
        port,
      );
      await pause(10);
    }
    const atClient = await drain(() => client.next(), () => client.pending, 1000, 20_000);
    const refusals = atClient.filter((r) => startLine(r.text) === 'SIP/2.0 503 Service Unavailable');
    expect(refusals.length).toBeGreaterThan(0);
    const fromUpstream = atClient.filter((r) => startLine(r.text).startsWith('INVITE') && header(r.text, 'Call-ID')?.startsWith('from-up-'));
    expect(fromUpstream).toHaveLength(BURSTS);
    const atUpstream = await drain(() => upstream.next(), () => upstream.pending, 500, 20_000);
    expect(atUpstream.some((r) => startLine(r.text).startsWith('SIP/2.0 503'))).toBe(false);

    // RFC 3261 §17.2.1: the ACK of a refused INVITE stops at the proxy that answered.
    const absorbed = h.proxy.stats.acksAbsorbed;
    for (const r of refusals.slice(0, 5)) {
      const callId = header(r.text, 'Call-ID') ?? '';
      const n = callId.slice('inv-'.length);
      const toTag = /;tag=([^;\s]+)$/.exec(header(r.text, 'To') ?? '')?.[1];
      client.send(invite({ callId, branch: `z9hG4bK-i${n}`, toTag }, [], 'ACK'), port);
    }
    for (let i = 0; i < 100 && h.proxy.stats.acksAbsorbed < absorbed + 5; i++) await pause(10);
    expect(h.proxy.stats.acksAbsorbed).toBe(absorbed + 5);

    // Once the queue has drained, nothing is refused any more.
    for (let i = 0; i < 500 && (h.proxy.overload()?.shedProbability ?? 1) > 0; i++) await pause(20);
    expect(h.proxy.overload()?.shedProbability).toBe(0);
    const shedBefore = h.proxy.stats.shed;
    client.send(register({ callId: 'calm', branch: 'z9hG4bK-calm' }), port);
    const calm = await drain(() => upstream.next(), () => upstream.pending, 300, 5000);
    expect(calm.map((r) => header(r.text, 'Call-ID'))).toContain('calm');
    expect(h.proxy.stats.shed).toBe(shedBefore);
  });
});
