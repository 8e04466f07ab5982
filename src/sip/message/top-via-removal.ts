import { HeaderId } from './header-names.js';
import { latin1 } from './latin1.js';
import { HEADER_STRIDE, type SipMessage } from './sip-message.js';
import { firstValueStart, valueEndAt } from './split-values.js';
import { parseVia, type Via } from './via.js';

/** What relaying a response changes (RFC 3261 §16.7 step 3): the top Via cut out, the next one read. */
export interface TopViaRemoval {
  /** Absolute `[start, end)` to cut: the whole line (with its CRLF) when the top value is alone on it. */
  readonly start: number;
  readonly end: number;
  /** The Via value below the top one, parsed; null when there is none or it is malformed. */
  readonly next: Via | null;
}

/**
 * The cut that removes the top Via value and the Via value below it, read straight from the bytes:
 * the same ranges as `removalRanges(values(VIA, 2), {0})`, without slicing the Via lines into
 * strings beyond the second value. The top value's range is the one `m.topVia` already found
 * (the proxy has read it to check it is ours). Null when the message has no usable top Via.
 */
export function topViaRemoval(m: SipMessage): TopViaRemoval | null {
  const top = m.topVia;
  if (top === null) return null;
  const { buf, layout } = m;
  const h = layout.headers;
  const at = (layout.first[HeaderId.VIA] ?? 0) * HEADER_STRIDE;
  const valueEnd = h[at + 3] ?? 0;
  const sameLine = firstValueStart(buf, top.end, valueEnd);
  if (sameLine < valueEnd) {
    // Another value follows on the line: the top one goes with the comma after it.
    return { start: top.start, end: sameLine, next: viaAt(buf, sameLine, valueEnd) };
  }
  const lineStart = h[at + 1] ?? 0;
  const lineEnd = h[at + 4] ?? 0;
  for (let k = at + HEADER_STRIDE; k < h.length; k += HEADER_STRIDE) {
    if (h[k] !== HeaderId.VIA) continue;
    const end = h[k + 3] ?? 0;
    const s = firstValueStart(buf, h[k + 2] ?? 0, end);
    if (s < end) return { start: lineStart, end: lineEnd, next: viaAt(buf, s, end) };
  }
  return { start: lineStart, end: lineEnd, next: null };
}

function viaAt(buf: Buffer, start: number, lineValueEnd: number): Via | null {
  return parseVia(latin1(buf, start, valueEndAt(buf, start, lineValueEnd)), start);
}

/** A copy of `buf` without `[start, end)`. */
export function cutBytes(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(buf.length - (end - start));
  buf.copy(out, 0, 0, start);
  buf.copy(out, start, end);
  return out;
}
