/**
 * Times are stored as integer milliseconds (UTC) and shown as ISO 8601 UTC strings,
 * without the fraction when it is zero: `2026-01-01T00:00:00Z`.
 */
export function formatIsoUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function formatIsoUtcOrNull(ms: number | null): string | null {
  return ms === null ? null : formatIsoUtc(ms);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses ISO 8601 with `Z` or a UTC offset (a date alone means 00:00 UTC) into milliseconds.
 * Null for anything else, including impossible dates (`2026-02-30`) that `Date.parse` would
 * silently roll over, and local times without an offset, which would depend on the machine.
 */
export function parseIsoTime(text: string): number | null {
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) return validDate(Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3]), 0, 0, 0, 0, 0);
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const zone = m[8] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const fraction = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  return validDate(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? '0'),
    fraction,
    offsetMinutes,
  );
}

function validDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | null {
  if (hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(local);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return local - offsetMinutes * 60_000;
}
