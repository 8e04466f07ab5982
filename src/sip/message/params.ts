import { isSpace } from './split-values.js';

/** One `;name=value` parameter, with its position so that an editor can cut it out. */
export interface Param {
  /** Lower-case name (parameter names are case-insensitive, RFC 3261 §7.3.1). */
  readonly name: string;
  /** Raw value, quotes kept; null for a flag such as `lr` or a bare `rport`. */
  readonly value: string | null;
  /** Offset of the `;` that opens it, relative to the text that was scanned. */
  readonly start: number;
  /** Offset just past its value. */
  readonly end: number;
}

/**
 * Reads `;name[=value]` parameters from `text` starting at `from` (which should point at a `;`),
 * until `end` or a character that cannot continue a parameter list (`?`, `>`, `,` outside quotes).
 */
export function parseParams(text: string, from: number, end = text.length): Param[] {
  const params: Param[] = [];
  let i = from;
  while (i < end) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3b) break; // ';'
    const start = i;
    i++;
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const nameStart = i;
    while (i < end && !isParamDelimiter(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i).trim().toLowerCase();
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d) {
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      const valueStart = i;
      if (text.charCodeAt(i) === 0x22) {
        i = skipQuoted(text, i, end);
      } else {
        while (i < end && !isValueDelimiter(text.charCodeAt(i))) i++;
      }
      value = text.slice(valueStart, i).trimEnd();
    }
    if (name.length > 0) params.push({ name, value, start, end: i });
  }
  return params;
}

/** The value of the first parameter named `name` (lower case); undefined when absent. */
export function paramValue(params: readonly Param[], name: string): string | null | undefined {
  for (const p of params) if (p.name === name) return p.value;
  return undefined;
}

/** Removes the surrounding quotes of a quoted-string and its quoted-pairs (RFC 3261 §25.1). */
export function unquote(value: string): string {
  if (value.length < 2 || value.charCodeAt(0) !== 0x22 || value.charCodeAt(value.length - 1) !== 0x22) {
    return value;
  }
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Index just past the closing quote of the quoted-string that opens at `i` (or `end`). */
export function skipQuoted(text: string, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return end;
}

function isParamDelimiter(c: number): boolean {
  return c === 0x3d || c === 0x3b || c === 0x3f || c === 0x3e || c === 0x2c || isSpace(c);
}

function isValueDelimiter(c: number): boolean {
  return c === 0x3b || c === 0x3f || c === 0x3e || c === 0x2c || isSpace(c);
}
