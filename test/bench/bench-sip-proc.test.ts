import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mainThreadSched, parseSchedstat } from '../../scripts/bench-sip-proc.js';

/*
 * The run-queue wait bench:sip reads for the sidecar's event loop: a loop that sheds with a low
 * CPU share was short of CPU (runnable, waiting for a core of a busy box), not blocked.
 */

describe('bench:sip scheduler times of a main thread', () => {
  it('reads /proc schedstat as seconds on a CPU and waiting on the run queue', () => {
    expect(parseSchedstat('1234000000 560000000 789\n')).toEqual({ ran: 1.234, waited: 0.56 });
    expect(parseSchedstat('')).toBeNull();
    expect(parseSchedstat('12 x 3')).toBeNull();
  });

  it.skipIf(!existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`))('counts this process\'s main thread as it works', () => {
    const before = mainThreadSched(process.pid);
    let x = 0;
    for (let i = 0; i < 30_000_000; i++) x = (x + i) % 1_000_003;
    const after = mainThreadSched(process.pid);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(before).not.toBeNull();
    expect(after?.ran ?? 0).toBeGreaterThan(before?.ran ?? Infinity);
    expect(after?.waited ?? -1).toBeGreaterThanOrEqual(before?.waited ?? Infinity);
    expect(mainThreadSched(2 ** 22 + 12345)).toBeNull();
  });
});
