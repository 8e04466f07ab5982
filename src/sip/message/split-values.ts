/**
 * Splits a header field value that may hold several comma-separated values (Via, Route,
 * Record-Route, Contact, Path: RFC 3261 §7.3.1) without splitting inside quoted strings or
 * `<...>` URIs. Returns `[start, end)` pairs relative to `text`, trimmed of linear white space;
 * empty elements are skipped.
 */
export function splitValues(text: string): number[] {
  const ranges: number[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      pushTrimmed(text, start, i, ranges);
      start = i + 1;
    }
  }
  pushTrimmed(text, start, text.length, ranges);
  return ranges;
}

function pushTrimmed(text: string, start: number, end: number, ranges: number[]): void {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (end > start) ranges.push(start, end);
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Where the first non-empty element of the comma-separated value in `buf[start, end)` begins, as
 * `splitValues` would find it, read from the bytes without making a string: empty elements hold
 * only white space, so it is the first byte that is neither white space nor a comma. `end` when
 * there is none.
 */
export function firstValueStart(buf: Uint8Array, start: number, end: number): number {
  while (start < end) {
    const c = buf[start] ?? 0;
    if (c !== 0x2c && !isSpace(c)) break;
    start++;
  }
  return start;
}

/**
 * The end (trimmed of white space) of the element that starts at `start`, a non-space byte: the
 * first comma outside quotes and `<...>`, or `end` (the same rules as `splitValues`).
 */
export function valueEndAt(buf: Uint8Array, start: number, end: number): number {
  let quoted = false;
  let angle = false;
  let i = start;
  for (; i < end; i++) {
    const c = buf[i] ?? 0;
    if (quoted) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      break;
    }
  }
  if (i > end) i = end;
  while (i > start && isSpace(buf[i - 1] ?? 0)) i--;
  return i;
}
