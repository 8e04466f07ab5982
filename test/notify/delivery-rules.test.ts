import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/notify/backoff.js';
import { classifyAttempt } from '../../src/notify/delivery-outcome.js';
import { displayUrl } from '../../src/notify/display-url.js';
import { parseRetryAfter } from '../../src/notify/http-post.js';
import { signBody, verifySignature } from '../../src/notify/signer.js';

describe('classifyAttempt', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [301, 'retry'],
    [400, 'failed'],
    [401, 'failed'],
    [404, 'failed'],
    [408, 'retry'],
    [422, 'failed'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
  ] as const)('HTTP %i -> %s', (status, verdict) => {
    expect(classifyAttempt({ kind: 'response', status, retryAfterMs: null })).toBe(verdict);
  });

  it('a transport error is retried', () => {
    expect(classifyAttempt({ kind: 'error', error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' })).toBe('retry');
  });
});

describe('retryDelay', () => {
  it('grows exponentially within [d/2, d], capped at the maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 10, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, base, r) => {
        const policy = { baseDelayMs: base, maxDelayMs: base * 50 };
        const d = Math.min(policy.maxDelayMs, base * 2 ** (attempt - 1));
        const delay = retryDelay(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(d / 2));
        expect(delay).toBeLessThanOrEqual(d);
      }),
    );
  });

  it('jitter spreads equal attempts apart', () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(retryDelay(3, policy, () => 0)).toBe(2000);
    expect(retryDelay(3, policy, () => 0.999)).toBe(3998);
  });
});

describe('signature', () => {
  const secret = 'a-shared-secret-of-some-length';
  const body = JSON.stringify({ id: 'e1', type: 'license.renewed' });

  it('is HMAC-SHA256 of the body as sha256=<hex>, and verifies', () => {
    const header = signBody(secret, body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(secret, body, header)).toBe(true);
  });

  it('fails for another body, another secret, or no header', () => {
    const header = signBody(secret, body);
    expect(verifySignature(secret, `${body} `, header)).toBe(false);
    expect(verifySignature('another-secret-of-some-length', body, header)).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, 'sha256=00')).toBe(false);
  });
});

describe('helpers', () => {
  it('Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3)', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('shows webhook URLs without credentials or query', () => {
    expect(displayUrl('https://user:pw@push.example.com:8443/hooks/x?token=abc#f')).toBe('https://push.example.com:8443/hooks/x');
  });
});
