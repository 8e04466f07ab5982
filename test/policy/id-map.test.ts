import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/policy/id-map.js';

describe('IdMap', () => {
  it('behaves like a Map for small, large and odd ids (property)', () => {
    const id = fc.oneof(
      fc.integer({ min: 0, max: 50 }),
      fc.constantFrom(-1, 2 ** 22 - 1, 2 ** 22, 2 ** 31, 2 ** 40, 1.5),
    );
    const op = fc.record({ del: fc.boolean(), id, v: fc.string() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        const m = new IdMap<string>();
        const model = new Map<number, string>();
        for (const o of ops) {
          if (o.del) expect(m.delete(o.id)).toBe(model.delete(o.id));
          else {
            m.set(o.id, o.v);
            model.set(o.id, o.v);
          }
          expect(m.size).toBe(model.size);
        }
        for (const [k, v] of model) expect(m.get(k)).toBe(v);
        expect([...m.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        expect([...m.values()].sort()).toEqual([...model.values()].sort());
      }),
    );
  });

  it('answers undefined for ids it does not have', () => {
    const m = new IdMap<number>();
    m.set(3, 30);
    expect(m.get(2)).toBeUndefined();
    expect(m.get(4)).toBeUndefined();
    expect(m.get(2 ** 30)).toBeUndefined();
  });
});
