import { HeaderId, identifyHeader } from '../message/header-names.js';
import { MAX_MESSAGE_SIZE } from '../message/parse-message.js';

const CR = 0x0d;
const LF = 0x0a;

/** What the framer found in the bytes pushed so far. */
export interface FramerEvents {
  /** One whole message (start line, headers, Content-Length bytes of body). */
  message(frame: Buffer): void;
  /** A CRLFCRLF keep-alive ping between messages (RFC 5626 §4.4.1): answer with CRLF. */
  ping(): void;
}

/**
 * Cuts a byte stream (TCP) into SIP messages by the blank line that ends the headers and the
 * Content-Length that follows (RFC 3261 §18.3). A message without Content-Length is taken to have
 * no body; the parser then reports it (Content-Length is mandatory on streams). A message that
 * cannot fit in MAX_MESSAGE_SIZE makes `push` return false: the caller closes the connection, as
 * there is no way to find the next message boundary.
 */
export class StreamFramer {
  #pending: Buffer | null = null;
  #crlfRun = 0;

  push(chunk: Buffer, events: FramerEvents): boolean {
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let pos = 0;
    while (pos < buf.length) {
      // Between messages: CRLFs are keep-alives (two in a row make a ping) or stray line ends.
      if (buf[pos] === CR || buf[pos] === LF) {
        if (buf[pos] === LF) {
          this.#crlfRun++;
          if (this.#crlfRun === 2) {
            this.#crlfRun = 0;
            events.ping();
          }
        }
        pos++;
        continue;
      }
      this.#crlfRun = 0;
      const frameLength = measure(buf, pos);
      if (frameLength === -1) {
        if (buf.length - pos > MAX_MESSAGE_SIZE) return false;
        break;
      }
      if (frameLength > MAX_MESSAGE_SIZE) return false;
      if (buf.length - pos < frameLength) break;
      events.message(buf.subarray(pos, pos + frameLength));
      pos += frameLength;
    }
    if (pos < buf.length) this.#pending = buf.subarray(pos);
    return true;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }
}

/**
 * Length of the message starting at `start`: headers up to the blank line plus Content-Length;
 * -1 while the blank line has not arrived. A malformed Content-Length counts as 0 so that the
 * parser sees the message and answers it.
 */
function measure(buf: Buffer, start: number): number {
  let lineStart = start;
  let contentLength = 0;
  for (;;) {
    const nl = buf.indexOf(LF, lineStart);
    if (nl < 0) return -1;
    const end = nl > lineStart && buf[nl - 1] === CR ? nl - 1 : nl;
    if (end === lineStart && lineStart !== start) return nl + 1 - start + contentLength;
    const colon = buf.indexOf(0x3a, lineStart);
    if (colon > lineStart && colon < end) {
      let nameEnd = colon;
      while (nameEnd > lineStart && (buf[nameEnd - 1] === 0x20 || buf[nameEnd - 1] === 0x09)) nameEnd--;
      if (identifyHeader(buf, lineStart, nameEnd) === HeaderId.CONTENT_LENGTH) {
        contentLength = readNumber(buf, colon + 1, end);
      }
    }
    lineStart = nl + 1;
  }
}

function readNumber(buf: Buffer, from: number, end: number): number {
  let n = 0;
  let digits = 0;
  for (let i = from; i < end; i++) {
    const c = buf[i] ?? 0;
    if (c === 0x20 || c === 0x09) continue;
    if (c < 0x30 || c > 0x39 || ++digits > 9) return 0;
    n = n * 10 + (c - 0x30);
  }
  return n;
}
