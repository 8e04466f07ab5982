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
