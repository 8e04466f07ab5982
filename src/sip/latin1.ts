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
