type Latin1Slicer = (buf: Buffer, start: number, end: number) => string;

interface WithLatin1Slice {
  latin1Slice(start: number, end: number): string;
}

/**
 * `buf.toString('latin1', start, end)` without the argument checks and encoding look-up that
 * `toString` does on every call: on the hot path the proxy slices a dozen header values per
 * message. Node's Buffer has had `latin1Slice` for years; the fallback keeps this correct if not.
 */
export const latin1: Latin1Slicer =
  typeof (Buffer.prototype as Partial<WithLatin1Slice>).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as WithLatin1Slice).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

type Latin1Writer = (buf: Buffer, text: string, at: number) => number;

interface WithLatin1Write {
  latin1Write(text: string, offset: number, length: number): number;
}

/** `buf.write(text, at, 'latin1')` without the argument checks, for the same reason; returns bytes written. */
export const writeLatin1: Latin1Writer =
  typeof (Buffer.prototype as Partial<WithLatin1Write>).latin1Write === 'function'
    ? (buf, text, at) => (buf as unknown as WithLatin1Write).latin1Write(text, at, buf.length - at)
    : (buf, text, at) => buf.write(text, at, 'latin1');
