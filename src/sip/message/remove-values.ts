import type { HeaderValue } from './sip-message.js';

/**
 * Byte ranges that cut the chosen values out of a multi-valued header (Via, Route, ...) while
 * keeping the other values of the same line well-formed: a line whose values all go is removed
 * whole (with its CRLF); otherwise each run of removed values goes with the comma that joins it
 * to its neighbour.
 */
export function removalRanges(values: readonly HeaderValue[], removed: ReadonlySet<number>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let i = 0;
  while (i < values.length) {
    const first = values[i];
    if (first === undefined) break;
    const line: number[] = [];
    while (i < values.length && values[i]?.lineStart === first.lineStart) line.push(i++);
    if (line.every((index) => removed.has(index))) {
      if (line.some((index) => removed.has(index))) ranges.push([first.lineStart, first.lineEnd]);
      continue;
    }
    let k = 0;
    while (k < line.length) {
      if (!removed.has(line[k] ?? -1)) {
        k++;
        continue;
      }
      const runStart = k;
      while (k < line.length && removed.has(line[k] ?? -1)) k++;
      const a = values[line[runStart] ?? 0];
      const b = values[line[k] ?? 0];
      const before = values[line[runStart - 1] ?? 0];
      const last = values[line[k - 1] ?? 0];
      if (a === undefined || last === undefined) continue;
      if (runStart === 0 && b !== undefined) ranges.push([a.start, b.start]);
      else if (before !== undefined) ranges.push([before.end, last.end]);
    }
  }
  return ranges;
}
