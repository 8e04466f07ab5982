import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NumberTable } from '../../src/policy/number-table.js';

type Rec = readonly [userId: number, rootId: number, groupRank: number, userRank: number, flags: number];

function read(t: NumberTable, n: string): Rec | undefined {
  const at = t.find(n);
  return at < 0 ? undefined : [t.userIdAt(at), t.rootIdAt(at), t.groupRankAt(at), t.userRankAt(at), t.flagsAt(at)];
}

describe('NumberTable', () => {
  it('keeps digit strings that differ only in leading zeros or length apart', () => {
    const t = new NumberTable();
    const keys = ['0', '00', '1', '01', '001', '10', '100', '0100', '999999999999999', '0999999999999999'];
    keys.forEach((k, i) => t.set(k, i, 1, i, 0));
    expect(t.size).toBe(keys.length);
    keys.forEach((k, i) => expect(read(t, k)).toEqual([i, 1, i, 0, 0]));
    expect(read(t, '000')).toBeUndefined();
    expect(read(t, '1000')).toBeUndefined();
  });

  it('takes any other string through its hash, verified against the string', () => {
    const t = new NumberTable();
    const keys = ['', '+4930123', 'door-1', '1234567890123456', '12a', ' 1', '١٢٣'];
    keys.forEach((k, i) => t.set(k, i, 2, i, 0, 1));
    keys.forEach((k, i) => expect(read(t, k)).toEqual([i, 2, i, 0, 1]));
    expect(read(t, 'door-2')).toBeUndefined();
    expect(read(t, '4930123')).toBeUndefined();
  });

  it('overwrites, and deletes only for the tree that owns the entry', () => {
    const t = new NumberTable();
    t.set('1001', 1, 10, 0, 0);
    t.set('1001', 2, 20, 5, 1, 3);
    expect(t.size).toBe(1);
    expect(read(t, '1001')).toEqual([2, 20, 5, 1, 3]);
    expect(t.delete('1001', 10)).toBe(false);
    expect(t.delete('1001', 20)).toBe(true);
    expect(t.delete('1001', 20)).toBe(false);
    expect(t.size).toBe(0);
  });

  it('gives the key words of digit strings for deleteKey', () => {
    const t = new NumberTable();
    const key = { hi: 0, lo: 0 };
    t.set('4915112345678', 1, 3, 0, 0);
    expect(t.lastKey(key)).toBe(true);
    t.set('sip-door', 1, 3, 1, 0);
    expect(t.lastKey({ hi: 0, lo: 0 })).toBe(false);
    expect(t.deleteKey(key.hi, key.lo, 4)).toBe(false);
    expect(t.deleteKey(key.hi, key.lo, 3)).toBe(true);
    expect(read(t, '4915112345678')).toBeUndefined();
    expect(read(t, 'sip-door')).toBeDefined();
    expect(() => t.deleteKey(-1, 5, 3)).toThrow(RangeError);
  });

  it('deletes inside a cluster that wraps around the end of the table', () => {
    // The slot an offset from `find` names; in a fresh table of 8 slots, a key's home slot.
    const home = (k: string): number => {
      const t = new NumberTable(0, 8);
      t.set(k, 0, 1, 0, 0);
      return t.find(k) / 8;
    };
    const candidates = Array.from({ length: 5000 }, (_, i) => String(i));
    const a = candidates.find((k) => home(k) === 6) as string;
    const [b, c] = candidates.filter((k) => home(k) === 7);
    const t = new NumberTable(0, 8);
    for (const k of [a, b, c] as string[]) t.set(k, 0, 1, 0, 0);
    expect([a, b, c].map((k) => t.find(k as string) / 8)).toEqual([6, 7, 0]);
    t.delete(a, 1);
    // c (home 7, at slot 0) must stay where a lookup from its home still reaches it.
    expect(t.find(b as string) / 8).toBe(7);
    expect(t.find(c as string) / 8).toBe(0);
    t.delete(b as string, 1);
    expect(t.find(c as string) / 8).toBe(7);
    expect(t.size).toBe(1);
  });

  it('refuses ids beyond int32', () => {
    expect(() => new NumberTable().set('1', 2 ** 31, 1, 0, 0)).toThrow(RangeError);
  });

  // Few distinct keys and a tiny start capacity: collisions, wrap-around, growth and
  // backward-shift deletion all happen often.
  const key = fc.oneof(
    fc.integer({ min: 0, max: 40 }).map(String),
    fc.integer({ min: 0, max: 10 }).map((n) => `0${n}`),
    fc.constantFrom('+1', 'a', 'door', '1234567890123456', '1234567890123457', ''),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key, root: fc.integer({ min: 1, max: 3 }), v: fc.integer({ min: -5, max: 1e6 }) }),
    fc.record({ kind: fc.constant('delete' as const), key, root: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('deleteKey' as const), key, root: fc.integer({ min: 1, max: 3 }) }),
  );

  it('behaves like a Map (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const t = new NumberTable(0, 2);
        const model = new Map<string, Rec>();
        const words = { hi: 0, lo: 0 };
        for (const o of ops) {
          if (o.kind === 'set') {
            const rec: Rec = [o.v, o.root, o.v + 1, o.v + 2, o.v & 3];
            t.set(o.key, ...rec);
            model.set(o.key, rec);
          } else if (o.kind === 'delete') {
            const owned = model.get(o.key)?.[1] === o.root;
            expect(t.delete(o.key, o.root)).toBe(owned);
            if (owned) model.delete(o.key);
          } else {
            t.find(o.key);
            if (!t.lastKey(words)) continue;
            const owned = model.get(o.key)?.[1] === o.root;
            expect(t.deleteKey(words.hi, words.lo, o.root)).toBe(owned);
            if (owned) model.delete(o.key);
          }
          expect(t.size).toBe(model.size);
        }
        for (const [k, rec] of model) expect(read(t, k)).toEqual(rec);
        for (const k of ['41', '011', 'b', '12345678901234567']) if (!model.has(k)) expect(read(t, k)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});
