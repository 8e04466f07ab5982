import { describe, expect, it } from 'vitest';
import { formatIsoUtc, parseIsoTime } from '../../src/shared/iso-time.js';

describe('parseIsoTime', () => {
  it.each([
    ['2026-01-01', Date.UTC(2026, 0, 1)],
    ['2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01T02:00+02:00', Date.UTC(2026, 0, 1)],
    ['2025-12-31T19:00:00-05:00', Date.UTC(2026, 0, 1)],
    ['2026-03-04T05:06:07.5Z', Date.UTC(2026, 2, 4, 5, 6, 7, 500)],
    ['2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12)],
  ])('%s', (text, ms) => {
    expect(parseIsoTime(text)).toBe(ms);
  });

  it.each(['', 'yesterday', '2026-02-30', '2025-02-29', '2026-13-01', '2026-01-01T24:00:00Z', '2026-01-01T10:00:00', '2026-01-01 10:00Z', '1700000000', '2026-01-01T10:00:00+25:00'])(
    'refuses %j',
    (text) => {
      expect(parseIsoTime(text)).toBeNull();
    },
  );

  it('round-trips with formatIsoUtc, dropping a zero fraction only', () => {
    expect(formatIsoUtc(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00Z');
    const ms = Date.UTC(2026, 0, 1, 1, 2, 3, 45);
    expect(formatIsoUtc(ms)).toBe('2026-01-01T01:02:03.045Z');
    expect(parseIsoTime(formatIsoUtc(ms))).toBe(ms);
  });
});
