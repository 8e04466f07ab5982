import { deltaSeconds, isDeregistration, readContacts, type ContactList } from './contact.js';
import { AMBIGUOUS, digestUser } from './digest.js';
import { canonicalName, HeaderId, headerIdOf } from './header-names.js';
import { latin1 } from './latin1.js';
import { readMethod } from './method.js';
import { parseSingleNameAddr, tagOf, type NameAddr } from './name-addr.js';
import { firstValueStart, splitValues, valueEndAt } from './split-values.js';
import { isTokenChar } from './token-char.js';
import { parseVia, type Via } from './via.js';

const NO_USERS: readonly string[] = Object.freeze([]);

/** Stride of the flat header table: id, lineStart, valueStart, valueEnd, lineEnd. */
export const HEADER_STRIDE = 5;

/** Where everything is in the raw bytes; produced by `parseMessage`. */
export interface MessageLayout {
  readonly buf: Buffer;
  readonly isRequest: boolean;
  readonly method: string;
  readonly requestUri: string;
  readonly uriStart: number;
  readonly uriEnd: number;
  readonly status: number;
  readonly reason: string;
  /** Flat table, HEADER_STRIDE numbers per header line, in message order. */
  readonly headers: readonly number[];
  /** Per HeaderId: index (in header lines) of its first occurrence, or -1. */
  readonly first: readonly number[];
  /** Offset of the empty line that ends the header section. */
  readonly headersEnd: number;
  readonly bodyStart: number;
}

/** One element of a comma-separated header value list, with where it sits in the message. */
export interface HeaderValue {
  readonly text: string;
  /** Absolute `[start, end)` of this value. */
  readonly start: number;
  readonly end: number;
  /** The header line it belongs to: `[lineStart, lineEnd)` includes the line's CRLF. */
  readonly lineStart: number;
  readonly lineEnd: number;
  readonly indexOnLine: number;
  readonly countOnLine: number;
}

/** A CSeq header (RFC 3261 §20.16). */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/**
 * A SIP message over its raw bytes. Only the start line and the header boundaries are found when
 * it is parsed; each accessor reads its header on first use and caches the result, so forwarding
 * a REGISTER touches a handful of headers and never splits the others.
 */
export class SipMessage {
  readonly buf: Buffer;
  readonly isRequest: boolean;
  /**
   * Request method as the SIP server reads it: a known method in upper case whatever case was sent
   * (`register` is REGISTER), any other as sent; empty for responses.
   */
  readonly method: string;
  /** Request-URI as sent; empty for responses. */
  readonly requestUri: string;
  /** Response status code; 0 for requests. */
  readonly status: number;
  /** Response reason phrase; empty for requests. */
  readonly reason: string;
  readonly layout: MessageLayout;

  #vias: Via[] | undefined;
  #callId: string | null | undefined;
  #topVia: Via | null | undefined;
  #to: NameAddr | null | undefined;
  #from: NameAddr | null | undefined;
  #cseq: CSeq | null | undefined;
  #contacts: ContactList | undefined;
  #maxForwards: number | null | undefined;

  constructor(layout: MessageLayout) {
    this.layout = layout;
    this.buf = layout.buf;
    this.isRequest = layout.isRequest;
    this.method = layout.method;
    this.requestUri = layout.requestUri;
    this.status = layout.status;
    this.reason = layout.reason;
  }

  /** The value of the first header with this id (latin1, so offsets match bytes), or null. */
  value(id: HeaderId): string | null {
    const index = this.layout.first[id] ?? -1;
    if (index < 0) return null;
    const h = this.layout.headers;
    const at = index * HEADER_STRIDE;
    return latin1(this.buf, h[at + 2] ?? 0, h[at + 3] ?? 0);
  }

  /** Number of header lines with this id. */
  count(id: HeaderId): number {
    let n = 0;
    const h = this.layout.headers;
    for (let at = 0; at < h.length; at += HEADER_STRIDE) if (h[at] === id) n++;
    return n;
  }

  /**
   * Every comma-separated value of every line of this header, in order; with `limit`, the first
   * `limit` values only (the lines below are not read).
   */
  values(id: HeaderId, limit = Number.POSITIVE_INFINITY): HeaderValue[] {
    const out: HeaderValue[] = [];
    const h = this.layout.headers;
    for (let at = 0; at < h.length && out.length < limit; at += HEADER_STRIDE) {
      if (h[at] !== id) continue;
      const lineStart = h[at + 1] ?? 0;
      const valueStart = h[at + 2] ?? 0;
      const lineEnd = h[at + 4] ?? 0;
      const text = latin1(this.buf, valueStart, h[at + 3] ?? 0);
      const ranges = splitValues(text);
      const countOnLine = ranges.length / 2;
      for (let r = 0; r < ranges.length && out.length < limit; r += 2) {
        const s = ranges[r] ?? 0;
        const e = ranges[r + 1] ?? 0;
        out.push({
          text: text.slice(s, e),
          start: valueStart + s,
          end: valueStart + e,
          lineStart,
          lineEnd,
          indexOnLine: r / 2,
          countOnLine,
        });
      }
    }
    return out;
  }

  /** Generic look-up by name (any case, compact forms too): values of every line, or []. */
  header(name: string): string[] {
    const id = headerIdOf(name);
    const out: string[] = [];
    const h = this.layout.headers;
    const wanted = id === HeaderId.OTHER ? canonicalName(name) : '';
    for (let at = 0; at < h.length; at += HEADER_STRIDE) {
      if (id !== HeaderId.OTHER ? h[at] !== id : !this.#nameIs(at, wanted)) continue;
      out.push(fromLatin1(this.buf.toString('latin1', h[at + 2], h[at + 3])));
    }
    return out;
  }

  get callId(): string | null {
    if (this.#callId === undefined) this.#callId = this.value(HeaderId.CALL_ID);
    return this.#callId;
  }

  get cseq(): CSeq | null {
    if (this.#cseq === undefined) this.#cseq = readCSeq(this.buf, this.layout);
    return this.#cseq;
  }

  /** Max-Forwards as a number; null when absent, NaN when not a number. */
  get maxForwards(): number | null {
    if (this.#maxForwards === undefined) this.#maxForwards = readDigits(this.buf, this.layout, HeaderId.MAX_FORWARDS);
    return this.#maxForwards;
  }

  /** The topmost Via value, parsed; null when absent or malformed. */
  get topVia(): Via | null {
    if (this.#topVia === undefined) {
      const index = this.layout.first[HeaderId.VIA] ?? -1;
      if (index < 0) {
        this.#topVia = null;
      } else {
        const h = this.layout.headers;
        const at = index * HEADER_STRIDE;
        const valueEnd = h[at + 3] ?? 0;
        // Only the first value's bytes become a string; the rest of the line is not read.
        const s = firstValueStart(this.buf, h[at + 2] ?? 0, valueEnd);
        this.#topVia = s === valueEnd ? null : parseVia(latin1(this.buf, s, valueEndAt(this.buf, s, valueEnd)), s);
      }
    }
    return this.#topVia;
  }

  /** All Via values, top first; a malformed one ends the list. */
  vias(): Via[] {
    if (this.#vias === undefined) {
      this.#vias = [];
      for (const v of this.values(HeaderId.VIA)) {
        const via = parseVia(v.text, v.start);
        if (via === null) break;
        this.#vias.push(via);
      }
    }
    return this.#vias;
  }

  /** The To name-addr; null when absent, malformed or on more than one line (RFC 3261 §8.1.1). */
  get to(): NameAddr | null {
    if (this.#to === undefined) this.#to = this.count(HeaderId.TO) === 1 ? parseSingleNameAddr(this.value(HeaderId.TO)) : null;
    return this.#to;
  }

  /** The From name-addr; null when absent, malformed or on more than one line. */
  get from(): NameAddr | null {
    if (this.#from === undefined) this.#from = this.count(HeaderId.FROM) === 1 ? parseSingleNameAddr(this.value(HeaderId.FROM)) : null;
    return this.#from;
  }

  get toTag(): string | null {
    return tagOf(this.to);
  }

  get fromTag(): string | null {
    return tagOf(this.from);
  }

  /** Contact values of every line; `star` for `Contact: *` alone; `unreadable` if one is not readable. */
  get contacts(): ContactList {
    if (this.#contacts === undefined) this.#contacts = readContacts(this.values(HeaderId.CONTACT).map((v) => v.text));
    return this.#contacts;
  }

  /**
   * The Expires header (RFC 3261 §20.19) as delta-seconds; null when absent, NaN when malformed or
   * given on more than one line.
   */
  get expires(): number | null {
    const lines = this.count(HeaderId.EXPIRES);
    if (lines === 0) return null;
    return lines === 1 ? deltaSeconds(this.value(HeaderId.EXPIRES) ?? '') : NaN;
  }

  /** Every binding unambiguously removed (RFC 3261 §10.2.2; see `isDeregistration`). */
  get isDeregister(): boolean {
    return this.isRequest && isDeregistration(this.contacts, this.expires);
  }

  /**
   * The user that digest authentication reads (`$au`) from each Authorization and
   * Proxy-Authorization line with Digest credentials, in order; null when one of them is
   * ambiguous (see `digestUser`). Nothing else of the credentials is read.
   */
  get digestUsers(): readonly string[] | null {
    let users: string[] | null = null;
    const h = this.layout.headers;
    for (let at = 0; at < h.length; at += HEADER_STRIDE) {
      if (h[at] !== HeaderId.AUTHORIZATION && h[at] !== HeaderId.PROXY_AUTHORIZATION) continue;
      const user = digestUser(latin1(this.buf, h[at + 2] ?? 0, h[at + 3] ?? 0));
      if (user === AMBIGUOUS) return null;
      if (user !== null) (users ??= []).push(fromLatin1(user));
    }
    return users ?? NO_USERS;
  }

  get userAgent(): string | null {
    const v = this.value(HeaderId.USER_AGENT);
    return v === null ? null : fromLatin1(v);
  }

  /** Content-Length as sent; null when absent. */
  get contentLength(): number | null {
    const v = this.value(HeaderId.CONTENT_LENGTH);
    return v === null ? null : Number(v);
  }

  get body(): Buffer {
    return this.buf.subarray(this.layout.bodyStart);
  }

  #nameIs(at: number, wanted: string): boolean {
    const h = this.layout.headers;
    const lineStart = h[at + 1] ?? 0;
    const colon = this.buf.indexOf(0x3a, lineStart);
    return canonicalName(this.buf.toString('latin1', lineStart, colon)) === wanted;
  }
}

/** The first header `id` as 1-9 digits read from the bytes; null when absent, NaN when not digits. */
function readDigits(buf: Buffer, layout: MessageLayout, id: HeaderId): number | null {
  const index = layout.first[id] ?? -1;
  if (index < 0) return null;
  const at = index * HEADER_STRIDE;
  const s = layout.headers[at + 2] ?? 0;
  const e = layout.headers[at + 3] ?? 0;
  if (e === s || e - s > 9) return NaN;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Strings are read as latin1 so that offsets are byte offsets; text for people is UTF-8. */
export function fromLatin1(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'latin1').toString('utf8');
  }
  return text;
}

/**
 * The first CSeq (RFC 3261 §20.16), `1*10DIGIT LWS method`, read from the bytes; null when absent
 * or malformed. Its method is read like the request's (`readMethod`), so a known method allocates
 * nothing and compares equal whatever its case.
 */
function readCSeq(buf: Buffer, layout: MessageLayout): CSeq | null {
  const index = layout.first[HeaderId.CSEQ] ?? -1;
  if (index < 0) return null;
  const at = index * HEADER_STRIDE;
  const s = layout.headers[at + 2] ?? 0;
  const e = layout.headers[at + 3] ?? 0;
  let i = s;
  let seq = 0;
  for (; i < e; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
  }
  if (i === s || i - s > 10) return null;
  const gap = i;
  while (i < e && isCSeqSpace(buf[i] ?? 0)) i++;
  if (i === gap) return null;
  const methodStart = i;
  while (i < e && isTokenChar(buf[i] ?? 0)) i++;
  if (i === methodStart || i !== e) return null;
  // RFC 3261 §8.1.1.5: the sequence number must be less than 2^31.
  if (seq >= 0x80000000) return null;
  return { seq, method: readMethod(buf, methodStart, e) };
}

/** What `\s` matched in the former pattern, within latin1: HT, LF, VT, FF, CR, SP, NBSP. */
function isCSeqSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

