import { afterEach, describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/sip/proxy/bounded-cache.js';
import { FlowTokens } from '../../src/sip/proxy/flow-token.js';
import type { Verdict } from '../../src/sip/proxy/gate.js';
import { DEFAULT_REPLY_CACHE } from '../../src/sip/proxy/reply-cache.js';
import { startHarness, type Harness } from './harness.js';
import { register, startLine } from './messages.js';

/**
 * Issue 8 item 3: every cache bounded by bytes and by age.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  cleanups.push(() => h.close());
  return h;
}

const REFUSE: Verdict = { action: 'reply', status: 403, reason: 'Forbidden', headers: [['X-Sipwarden-Reason', 'license-expired']] };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BoundedCache', () => {
  const bounds = { maxEntries: 4, maxBytes: 1000, maxAgeMs: 1000 };

  it('drops the oldest entries past its entry bound', () => {
    const cache = new BoundedCache<string>(bounds, () => 0);
    for (const k of ['a', 'b', 'c', 'd', 'e']) cache.set(k, k, 1);
    expect(cache.size).toBe(4);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('e')).toBe('e');
    cache.clear();
  });

  it('drops the oldest entries past its byte bound, and never stores one entry larger than the bound', () => {
    const cache = new BoundedCache<string>(bounds, () => 0);
    cache.set('a', 'a', 300);
    cache.set('b', 'b', 300);
    cache.set('c', 'c', 300);
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe('c');
    expect(cache.set('huge', 'h', 2000)).toBe(false);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    cache.clear();
  });

  it('replaces an entry set again, counting its bytes once', () => {
    const cache = new BoundedCache<number>(bounds, () => 0);
    for (let i = 0; i < 10_000; i++) cache.set('a', i, 100);
    cache.set('b', -1, 100);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBe(9999);
    expect(cache.bytes).toBe(2 * (100 + 1 + 64));
    cache.clear();
  });

  it('misses expired entries and prunes them, oldest first', () => {
    let now = 0;
    const cache = new BoundedCache<string>(bounds, () => now);
    cache.set('a', 'a', 1);
    now = 500;
    cache.set('b', 'b', 1);
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.get('b')).toBe('b');
    now = 1500;
    cache.prune();
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });

  it('gives back what it held once it is older than its age, with no traffic at all', async () => {
    const cache = new BoundedCache<Buffer>({ maxEntries: 100, maxBytes: 1_000_000, maxAgeMs: 50 });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, Buffer.alloc(1000), 1000);
    expect(cache.bytes).toBeGreaterThan(10_000);
    for (let i = 0; i < 50 && cache.size > 0; i++) await pause(20);
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});

describe('bounded caches in the proxy (issue 8 item 3)', () => {
  it('holds no more than its byte bound of refusals carrying a 60 KB Via, and repeats them to retransmissions', async () => {
    const h = await harness({ gate: () => REFUSE });
    const via = (i: number) => `SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-big${i};rport;pad=${'v'.repeat(60_000)}`;
    const big = (i: number) => register({ callId: `big-${i}`, branch: `z9hG4bK-big${i}` }).replace(/^Via: .*$/m, `Via: ${via(i)}`);
    let maxBytes = 0;
    for (let i = 0; i < 150; i++) {
      h.client.send(big(i), h.port);
      expect(startLine((await h.client.next()).text)).toBe('SIP/2.0 403 Forbidden');
      maxBytes = Math.max(maxBytes, h.proxy.caches().replyCache.bytes);
    }
    // 150 × 60 KB = 9 MB of refusals went out; the cache kept at most its bound.
    expect(maxBytes).toBeGreaterThan(DEFAULT_REPLY_CACHE.maxBytes / 2);
    expect(maxBytes).toBeLessThanOrEqual(DEFAULT_REPLY_CACHE.maxBytes);
    // The latest refusals are still there for retransmissions: the gate is not asked again.
    const calls = h.proxy.stats.gateCalls;
    h.client.send(big(149), h.port);
    expect(startLine((await h.client.next()).text)).toBe('SIP/2.0 403 Forbidden');
    expect(h.proxy.stats.gateCalls).toBe(calls);
    expect(h.proxy.stats.retransmittedReplies).toBe(1);
  });

  it('gives back the refusals it held once they are older than the transaction lifetime', async () => {
    const h = await harness({ gate: () => REFUSE, replyCache: { ...DEFAULT_REPLY_CACHE, maxAgeMs: 300 } });
    let held = 0;
    for (let i = 0; i < 20; i++) {
      h.client.send(register({ callId: `old-${i}`, branch: `z9hG4bK-old${i}` }), h.port);
      await h.client.next();
      held = Math.max(held, h.proxy.caches().replyCache.entries);
    }
    // (On a busy machine the first ones may be gone already: what matters is that all go.)
    expect(held).toBeGreaterThan(0);
    for (let i = 0; i < 250 && h.proxy.caches().replyCache.entries > 0; i++) await pause(20);
    expect(h.proxy.caches().replyCache).toEqual({ entries: 0, bytes: 0 });
  });

  it('caches no flow token longer than ours, and bounds the bytes of the ones it caches', () => {
    const tokens = new FlowTokens(Buffer.alloc(32, 1));
    expect(tokens.open('A'.repeat(5000))).toBeNull();
    expect(tokens.cached().entries).toBe(0);
    for (let i = 0; i < 8000; i++) tokens.open(String(i).padStart(110, 'x'));
    expect(tokens.cached().bytes).toBeLessThanOrEqual(1024 * 1024);
    const flow = { transport: 'tcp' as const, address: '10.0.0.5', port: 5070 };
    expect(tokens.open(tokens.forRegistration(flow))?.flow).toEqual(flow);
  });
});
