import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning, oneErrorLine, type CliResult } from './cli-harness.js';

/*
 * Limit-bounded writes from many processes at once: each `number add` checks and inserts in one
 * BEGIN IMMEDIATE transaction, so however the processes interleave, the limit holds exactly.
 */

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
  await w.ok(['group', 'add', 'Sunrise']);
  await w.ok(['licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '10', '--apps', '0']);
  await w.ok(['user', 'add', 'bob', '--group', 'Sunrise']);
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

describe('concurrent number add', () => {
  it('12 processes started together, each adding 2 numbers to a tree limited to 10: exactly 10 succeed', async () => {
    const workers = Array.from({ length: 12 }, async (_, i): Promise<CliResult[]> => {
      const first = await w.run(['number', 'add', `${1000 + i * 2}`, '--user', 'bob']);
      const second = await w.run(['number', 'add', `${1001 + i * 2}`, '--user', 'bob']);
      return [first, second];
    });
    const results = (await Promise.all(workers)).flat();
    const codes = results.map((r) => r.code);
    expect(codes.filter((c) => c === 0)).toHaveLength(10);
    expect(codes.filter((c) => c === 4)).toHaveLength(14);
    for (const r of results.filter((x) => x.code === 4)) {
      expect(oneErrorLine(r)).toMatch(/refused: root group 'Sunrise' uses 10 of its 10 virtual-number licenses/);
    }
    const [rows] = w.query<{ rows: number; used: number }>(
      "SELECT (SELECT COUNT(*) FROM numbers) AS rows, (SELECT numbers_used FROM licenses) AS used",
    );
    expect(rows).toEqual({ rows: 10, used: 10 });
    expect(w.query("SELECT * FROM audit_log WHERE action = 'number.add' AND outcome = 'ok'")).toHaveLength(10);
    expect(w.query("SELECT * FROM audit_log WHERE action = 'number.add' AND outcome = 'refused'")).toHaveLength(14);
  }, 120_000);
});
