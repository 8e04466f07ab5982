import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../../src/sip/proxy/recent-keys.js';

describe('RecentKeys (two generations)', () => {
  it('remembers a key for at least a generation of newer keys, and forgets it after two', () => {
    const keys = new RecentKeys(3, 60_000, () => 0);
    keys.add('a');
    for (const k of ['b', 'c', 'd', 'e', 'f']) keys.add(k);
    expect(keys.has('a')).toBe(true); // 'a' is in the previous generation
    keys.add('g'); // a third generation starts: the one holding 'a' is dropped
    expect(keys.has('a')).toBe(false);
    expect(keys.has('g')).toBe(true);
    expect(keys.size).toBeLessThanOrEqual(6);
  });

  it('drops keys by age when little comes', () => {
    let now = 0;
    const keys = new RecentKeys(1000, 100, () => now);
    keys.add('old');
    now = 150;
    keys.add('newer');
    expect(keys.has('old')).toBe(true);
    now = 300;
    keys.add('newest');
    expect(keys.has('old')).toBe(false);
    expect(keys.has('newer')).toBe(true);
  });
});
