import { InvalidArgumentError } from '@commander-js/extra-typings';
import { parseIsoTime } from '../shared/iso-time.js';

/*
 * Argument parsers for commander. They throw InvalidArgumentError, which commander reports as
 * a usage error naming the option, and which the top-level catch turns into exit 2.
 */

/** A licence limit: a non-negative integer written in decimal digits. */
export function parseLimit(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(text);
}

/**
 * A personal license: a non-negative integer, or `none` for no cap. `none` stays a string here
 * because commander turns a parser's null into '' (see `noneToNull`).
 */
export function parseLimitOrNone(text: string): number | 'none' {
  if (text === 'none') return 'none';
  if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError("expected a non-negative integer or 'none'");
  return Number(text);
}

/** ISO 8601 with Z or an offset; a date alone is 00:00 UTC. */
export function parseTime(text: string): number {
  const ms = parseIsoTime(text);
  if (ms === null) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 time with Z or an offset (e.g. 2026-01-01T00:00:00Z or 2026-01-01T02:00:00+02:00) or a date (2026-01-01 = 00:00 UTC)',
    );
  }
  return ms;
}

export function parseOnOff(text: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new InvalidArgumentError("expected 'on' or 'off'");
}

export function noneToNull(value: number | 'none'): number | null;
export function noneToNull(value: number | 'none' | undefined): number | null | undefined;
export function noneToNull(value: number | 'none' | undefined): number | null | undefined {
  return value === 'none' ? null : value;
}
