import { HEADER_ID_COUNT, HeaderId, identifyHeader } from './header-names.js';
import { latin1 } from './latin1.js';
import { readMethod } from './method.js';
import { HEADER_STRIDE, SipMessage } from './sip-message.js';
import { isTokenChar } from './token-char.js';

/** Larger messages are refused: dropped on UDP, the connection closed on TCP/WS. */
export const MAX_MESSAGE_SIZE = 65_536;

export interface ParseOptions {
  /**
   * The bytes came framed from a stream (TCP), where Content-Length is mandatory (RFC 3261 §18.3);
   * on datagrams and WebSocket messages a missing Content-Length means "the rest is body".
   */
  readonly stream?: boolean;
}

/**
 * `ok`: a message the proxy can work with. Not ok with a message: the start line and headers
 * could be read but a mandatory header is missing or broken, so a request can be answered 400
 * (RFC 3261 §8.2.2) when its Via is usable. Not ok without a message: garbage, to be dropped.
 */
export type ParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | { readonly ok: false; readonly message: SipMessage | null; readonly problem: string };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const VERSION = Buffer.from('sip/2.0', 'latin1');
/** `first` starts as a copy of this (a plain array rather than a new Int32Array per message). */
const UNSEEN: readonly number[] = Array.from({ length: HEADER_ID_COUNT }, () => -1);

/**
 * Finds the start line, the header lines and the body of a SIP message (RFC 3261 §7) in one pass
 * over the bytes, identifying only the headers the proxy uses. Never throws.
 */
export function parseMessage(input: Buffer, options: ParseOptions = {}): ParseResult {
  try {
    return parse(input, options.stream === true);
  } catch {
    return garbage('parser failure');
  }
}

function parse(input: Buffer, stream: boolean): ParseResult {
  if (input.length > MAX_MESSAGE_SIZE) return garbage('message too large');
  let buf = input;
  const len = buf.length;
  let pos = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored (they are also keep-alives).
  while (pos < len && (buf[pos] === CR || buf[pos] === LF)) pos++;
  if (pos === len) return garbage('empty');
  const firstLf = buf.indexOf(LF, pos);
  if (firstLf < 0) return garbage('no line end');
  const lineEnd = firstLf > pos && buf[firstLf - 1] === CR ? firstLf - 1 : firstLf;
  const start = parseStartLine(buf, pos, lineEnd);
  if (start === null) return garbage('malformed start line');

  const headers: number[] = [];
  const first = UNSEEN.slice();
  let problem: string | null = null;
  let copied = false;
  let headersEnd = -1;
  let bodyStart = len;
  let lineStart = firstLf + 1;
  let count = 0;
  while (lineStart < len) {
    // One pass over the line: where it ends and where its first colon is. A loop over the bytes
    // beats Buffer#indexOf here: lines are short and each native call costs more than the scan.
    let colon = -1;
    let nl = lineStart;
    while (nl < len) {
      const c = buf[nl];
      if (c === LF) break;
      if (c === 0x3a && colon < 0) colon = nl;
      nl++;
    }
    if (nl === len) problem ??= 'header section not terminated';
    // Folded lines (RFC 3261 §7.3.1): blank the line break in a copy, which keeps every offset.
    const empty = nl === lineStart || (nl === lineStart + 1 && buf[lineStart] === CR);
    while (!empty && nl + 1 < len && (buf[nl + 1] === SP || buf[nl + 1] === HT)) {
      if (!copied) {
        buf = Buffer.from(buf);
        copied = true;
      }
      buf[nl] = SP;
      if (buf[nl - 1] === CR) buf[nl - 1] = SP;
      nl++;
      while (nl < len) {
        const c = buf[nl];
        if (c === LF) break;
        if (c === 0x3a && colon < 0) colon = nl;
        nl++;
      }
      if (nl === len) problem ??= 'header section not terminated';
    }
    const end = nl > lineStart && buf[nl - 1] === CR ? nl - 1 : nl;
    if (end === lineStart) {
      headersEnd = lineStart;
      bodyStart = nl + 1;
      break;
    }
    if (buf[lineStart] === SP || buf[lineStart] === HT) {
      problem ??= 'line folding after the start line';
      lineStart = nl + 1;
      continue;
    }
    if (colon < 0 || colon >= end) {
      problem ??= 'header line without a colon';
      lineStart = nl + 1;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > lineStart && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HT)) nameEnd--;
    let valueStart = colon + 1;
    while (valueStart < end && (buf[valueStart] === SP || buf[valueStart] === HT)) valueStart++;
    let valueEnd = end;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) valueEnd--;
    const id = nameEnd === lineStart ? HeaderId.OTHER : identifyHeader(buf, lineStart, nameEnd);
    if (id !== HeaderId.OTHER && first[id] === -1) first[id] = count;
    headers.push(id, lineStart, valueStart, valueEnd, nl < len ? nl + 1 : len);
    count++;
    lineStart = nl + 1;
  }
  if (headersEnd < 0) {
    problem ??= 'header section not terminated';
    headersEnd = len;
    bodyStart = len;
  }

  const contentLength = readContentLength(buf, headers);
  if (contentLength === -1) {
    problem ??= 'bad Content-Length';
  } else if (contentLength === -2) {
    if (stream) problem ??= 'missing Content-Length';
  } else if (bodyStart + contentLength > len) {
    problem ??= 'body shorter than Content-Length';
  } else if (bodyStart + contentLength < len) {
    // RFC 3261 §18.3: bytes past Content-Length on a datagram are discarded.
    buf = buf.subarray(0, bodyStart + contentLength);
  }

  // Properties listed one by one: an object spread not in first position is a slow runtime copy.
  const message = new SipMessage({
    buf,
    isRequest: start.isRequest,
    method: start.method,
    requestUri: start.requestUri,
    uriStart: start.uriStart,
    uriEnd: start.uriEnd,
    status: start.status,
    reason: start.reason,
    headers,
    first,
    headersEnd,
    bodyStart,
  });
  problem ??= mandatoryProblem(message);
  return problem === null ? { ok: true, message } : { ok: false, message, problem };
}

interface StartLine {
  readonly isRequest: boolean;
  readonly method: string;
  readonly requestUri: string;
  readonly uriStart: number;
  readonly uriEnd: number;
  readonly status: number;
  readonly reason: string;
}

function parseStartLine(buf: Buffer, pos: number, end: number): StartLine | null {
  if (end - pos >= 11 && matchesVersion(buf, pos) && buf[pos + 7] === SP) {
    const d0 = (buf[pos + 8] ?? 0) - 0x30;
    const d1 = (buf[pos + 9] ?? 0) - 0x30;
    const d2 = (buf[pos + 10] ?? 0) - 0x30;
    if (!isDigit(d0) || !isDigit(d1) || !isDigit(d2) || d0 < 1 || d0 > 6) return null;
    if (end - pos > 11 && buf[pos + 11] !== SP) return null;
    const status = d0 * 100 + d1 * 10 + d2;
    return { isRequest: false, method: '', requestUri: '', uriStart: 0, uriEnd: 0, status, reason: buf.toString('utf8', pos + 12, end) };
  }
  const sp1 = buf.indexOf(SP, pos);
  if (sp1 <= pos || sp1 >= end) return null;
  for (let i = pos; i < sp1; i++) if (!isTokenChar(buf[i] ?? 0)) return null;
  const sp2 = buf.lastIndexOf(SP, end - 1);
  if (sp2 <= sp1 + 1 || end - sp2 - 1 !== VERSION.length || !matchesVersion(buf, sp2 + 1)) return null;
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = buf[i] ?? 0;
    if (c <= SP || c === 0x7f) return null;
  }
  return {
    isRequest: true,
    method: readMethod(buf, pos, sp1),
    requestUri: latin1(buf, sp1 + 1, sp2),
    uriStart: sp1 + 1,
    uriEnd: sp2,
    status: 0,
    reason: '',
  };
}

/** `SIP/2.0`, case-insensitive (RFC 3261 §7.1). */
function matchesVersion(buf: Buffer, at: number): boolean {
  for (let i = 0; i < VERSION.length; i++) {
    const expected = VERSION[i] ?? 0;
    const actual = buf[at + i] ?? 0;
    if (actual !== expected && (actual | 0x20) !== expected) return false;
    if (actual !== expected && (expected < 0x61 || expected > 0x7a)) return false;
  }
  return true;
}

/** Content-Length as a number; -2 when absent; -1 when malformed or given twice differently. */
function readContentLength(buf: Buffer, headers: readonly number[]): number {
  let value = -2;
  for (let at = 0; at < headers.length; at += HEADER_STRIDE) {
    if (headers[at] !== HeaderId.CONTENT_LENGTH) continue;
    const s = headers[at + 2] ?? 0;
    const e = headers[at + 3] ?? 0;
    if (e === s || e - s > 9) return -1;
    let n = 0;
    for (let i = s; i < e; i++) {
      const d = (buf[i] ?? 0) - 0x30;
      if (!isDigit(d)) return -1;
      n = n * 10 + d;
    }
    if (value !== -2 && value !== n) return -1;
    value = n;
  }
  return value;
}

/** RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Via (and for us, a readable top Via). */
function mandatoryProblem(m: SipMessage): string | null {
  const first = m.layout.first;
  if ((first[HeaderId.VIA] ?? -1) < 0) return 'missing Via';
  if (m.topVia === null) return 'malformed Via';
  const callId = first[HeaderId.CALL_ID] ?? -1;
  // An empty value, read from the offsets: no string is made for it here.
  const h = m.layout.headers;
  if (callId < 0 || h[callId * HEADER_STRIDE + 2] === h[callId * HEADER_STRIDE + 3]) return 'missing Call-ID';
  if ((first[HeaderId.FROM] ?? -1) < 0) return 'missing From';
  if ((first[HeaderId.TO] ?? -1) < 0) return 'missing To';
  const cseq = m.cseq;
  if (cseq === null) return (first[HeaderId.CSEQ] ?? -1) < 0 ? 'missing CSeq' : 'malformed CSeq';
  if (m.isRequest) {
    // Both read by readMethod: `register` and `REGISTER` are one method, as for the SIP server.
    if (cseq.method !== m.method) return 'CSeq method does not match the request method';
    if (m.to === null) return 'malformed To';
    const mf = m.maxForwards;
    if (mf !== null && Number.isNaN(mf)) return 'malformed Max-Forwards';
  }
  return null;
}

function garbage(problem: string): ParseResult {
  return { ok: false, message: null, problem };
}

function isDigit(d: number): boolean {
  return d >= 0 && d <= 9;
}
