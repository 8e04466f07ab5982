import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OVERLOAD, OverloadControl } from '../../src/sip/proxy/overload-control.js';
import { SheddingLog } from '../../src/sip/proxy/shedding-log.js';

/** Feeds `n` updates of the same measured delay. */
function feed(control: OverloadControl, delayMs: number, n: number): void {
  for (let i = 0; i < n; i++) control.update(delayMs);
}

/** How many of 10,000 new requests the controller refuses now (a fixed sequence of draws). */
function shedOf10k(control: OverloadControl): number {
  let shed = 0;
  for (let i = 0; i < 10_000; i++) if (control.shed(() => (i + 0.5) / 10_000)) shed++;
  return shed;
}

describe('OverloadControl (RFC 8033 PIE on the queueing delay)', () => {
  it('sheds nothing while the delay stays under its target', () => {
    const control = new OverloadControl(DEFAULT_OVERLOAD);
    feed(control, 40, 500);
    expect(control.report().shedProbability).toBe(0);
    expect(shedOf10k(control)).toBe(0);
  });

  it('sheds nothing for a burst shorter than 150 ms, such as a GC pause', () => {
    const control = new OverloadControl(DEFAULT_OVERLOAD);
    feed(control, 400, 7); // 140 ms of a deep queue
    expect(shedOf10k(control)).toBe(0);
    feed(control, 1, 50);
    expect(control.report().shedProbability).toBe(0);
  });

  it('sheds more the longer the delay stays over its target, and stops once the queue is gone', () => {
    const control = new OverloadControl(DEFAULT_OVERLOAD);
    feed(control, 60, 50); // 1 s at 60 ms, just over the 50 ms target
    const after1s = control.report().shedProbability;
    feed(control, 60, 50);
    const after2s = control.report().shedProbability;
    expect(after1s).toBeGreaterThan(0);
    expect(after2s).toBeGreaterThan(after1s);
    expect(shedOf10k(control)).toBeGreaterThan(0);
    feed(control, 2, 100);
    expect(control.report().shedProbability).toBe(0);
    expect(shedOf10k(control)).toBe(0);
  });

  it('sheds nothing once the queue is short again, however high a passing build-up left the probability (RFC 8033 §4.1)', () => {
    // Queueing delay measured every 20 ms by `serve` at the start of a bench:sip step (4,000
    // REGISTER/s into a freshly started sidecar: the queue built up to 157 ms, then drained).
    const measured = [0, 0, 14.9, 31.2, 39.1, 44, 53.7, 59, 62.5, 77, 94.1, 105.6, 113.5, 110.2, 114.4, 115.1, 121.3, 113.9, 118.3, 116, 116.3, 125.1, 131.9, 137.2, 144.4, 146.6, 138.8, 150.5, 157.3, 126.8, 57.7, 45.5, 22.4, 13.3, 8.2, 4.7, 1.5, 0.2, 0.8, 1.7, 1.6, 0.5, 0.3, 0.2, 1.2, 0.3, 1.4, 0.3, 0.2, 0.2, 3.3, 5.1, 2.4, 0.2, 2, 0.3, 2];
    const control = new OverloadControl(DEFAULT_OVERLOAD);
    let shedWhileLong = 0;
    let shedWhileShort = 0;
    for (const delayMs of measured) {
      control.update(delayMs);
      const shed = shedOf10k(control);
      if (delayMs >= DEFAULT_OVERLOAD.targetDelayMs / 2) shedWhileLong += shed;
      else {
        shedWhileShort += shed;
        expect(control.report().shedProbability).toBe(0);
      }
    }
    expect(shedWhileLong).toBeGreaterThan(0); // the build-up itself, over 150 ms, is still shed
    expect(shedWhileShort).toBe(0);
  });

  it('settles where shedding holds the delay at its target, in a closed loop', () => {
    // A queue served at 1,000/s, offered 2,000/s: what is not shed queues up.
    const control = new OverloadControl(DEFAULT_OVERLOAD);
    let queue = 0;
    const delays: number[] = [];
    let draw = 0;
    for (let step = 0; step < 1000; step++) {
      for (let i = 0; i < 40; i++) if (!control.shed(() => (draw = (draw + 0.6180339887) % 1))) queue++;
      queue = Math.max(0, queue - 20);
      const delayMs = queue; // 1 ms per queued request at 1,000/s
      control.update(delayMs);
      if (step >= 500) delays.push(delayMs);
    }
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(10);
    expect(mean).toBeLessThan(150);
    expect(control.report().shedProbability).toBeGreaterThan(0.3);
    expect(control.report().shedProbability).toBeLessThan(0.7);
  });

  it('draws Retry-After uniformly between its bounds', () => {
    const control = new OverloadControl({ ...DEFAULT_OVERLOAD, retryAfter: { min: 5, max: 20 } });
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(control.retryAfter(() => i / 1000));
    expect(Math.min(...seen)).toBe(5);
    expect(Math.max(...seen)).toBe(20);
    expect(seen.size).toBe(16);
  });
});

describe('SheddingLog', () => {
  it('logs the start, one count line a second while shedding, and the total at the end', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.length > 0) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    let now = 1_000_000;
    const log = new SheddingLog(pino({ level: 'info' }, sink), () => now);
    const shedding = { shedProbability: 0.5, delayMs: 80 };
    log.observe(shedding);
    // 3 s of a flood: 30,000 refusals.
    for (let i = 0; i < 30_000; i++) {
      now += 0.1;
      log.shed(shedding);
    }
    log.observe({ shedProbability: 0, delayMs: 5 });
    const counts = lines.filter((l) => l.msg === 'overload: requests refused with 503');
    expect(lines[0]?.msg).toBe('overload: shedding new REGISTERs and INVITEs with 503');
    expect(counts.length).toBeGreaterThanOrEqual(3);
    expect(counts.length).toBeLessThanOrEqual(4);
    expect(counts.reduce((sum, l) => sum + Number(l.shed), 0)).toBe(30_000);
    expect(lines.at(-1)).toMatchObject({ msg: 'overload over: no longer shedding', shed: 30_000 });
  });
});
