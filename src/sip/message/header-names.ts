/**
 * The headers the proxy looks at, identified straight from the raw bytes of a header name.
 * Names are case-insensitive and have compact forms (RFC 3261 §7.3.1, §7.3.3); everything else is
 * `OTHER` and is never looked at, only copied.
 */
export const HeaderId = {
  OTHER: 0,
  VIA: 1,
  MAX_FORWARDS: 2,
  CALL_ID: 3,
  CSEQ: 4,
  TO: 5,
  FROM: 6,
  CONTACT: 7,
  ROUTE: 8,
  RECORD_ROUTE: 9,
  CONTENT_LENGTH: 10,
  EXPIRES: 11,
  AUTHORIZATION: 12,
  PROXY_AUTHORIZATION: 13,
  USER_AGENT: 14,
  PATH: 15,
} as const;

export type HeaderId = (typeof HeaderId)[keyof typeof HeaderId];

/** Number of distinct ids, for tables indexed by id. */
export const HEADER_ID_COUNT = 16;

/** RFC 3261 §7.3.3 and the IANA registry: compact form → full name (lower case). */
export const COMPACT_FORMS: Readonly<Record<string, string>> = Object.freeze({
  v: 'via',
  i: 'call-id',
  f: 'from',
  t: 'to',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
  n: 'identity-info',
});

const FULL_NAMES: ReadonlyArray<readonly [string, HeaderId]> = [
  ['to', HeaderId.TO],
  ['via', HeaderId.VIA],
  ['cseq', HeaderId.CSEQ],
  ['from', HeaderId.FROM],
  ['path', HeaderId.PATH],
  ['route', HeaderId.ROUTE],
  ['call-id', HeaderId.CALL_ID],
  ['contact', HeaderId.CONTACT],
  ['expires', HeaderId.EXPIRES],
  ['user-agent', HeaderId.USER_AGENT],
  ['max-forwards', HeaderId.MAX_FORWARDS],
  ['record-route', HeaderId.RECORD_ROUTE],
  ['authorization', HeaderId.AUTHORIZATION],
  ['content-length', HeaderId.CONTENT_LENGTH],
  ['proxy-authorization', HeaderId.PROXY_AUTHORIZATION],
];

const BY_NAME: ReadonlyMap<string, HeaderId> = new Map(FULL_NAMES);

/** Candidates grouped by name length, names as byte codes, so identification never allocates. */
const BY_LENGTH: ReadonlyArray<ReadonlyArray<readonly [Uint8Array, HeaderId]>> = (() => {
  const table: Array<Array<readonly [Uint8Array, HeaderId]>> = [];
  for (const [name, id] of FULL_NAMES) {
    (table[name.length] ??= []).push([Buffer.from(name, 'latin1'), id]);
  }
  return table;
})();

const COMPACT_IDS: ReadonlyMap<number, HeaderId> = new Map([
  [0x76, HeaderId.VIA], // v
  [0x69, HeaderId.CALL_ID], // i
  [0x66, HeaderId.FROM], // f
  [0x74, HeaderId.TO], // t
  [0x6d, HeaderId.CONTACT], // m
  [0x6c, HeaderId.CONTENT_LENGTH], // l
]);

/** Identifies the header whose name is `buf[start, end)`; case-insensitive, compact forms included. */
export function identifyHeader(buf: Uint8Array, start: number, end: number): HeaderId {
  const length = end - start;
  if (length === 1) return COMPACT_IDS.get((buf[start] ?? 0) | 0x20) ?? HeaderId.OTHER;
  const candidates = BY_LENGTH[length];
  if (candidates === undefined) return HeaderId.OTHER;
  const first = (buf[start] ?? 0) | 0x20;
  for (let k = 0; k < candidates.length; k++) {
    const candidate = candidates[k];
    if (candidate !== undefined && candidate[0][0] === first && sameName(buf, start, candidate[0])) return candidate[1];
  }
  return HeaderId.OTHER;
}

function sameName(buf: Uint8Array, start: number, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) {
    const expected = lower[i] ?? 0;
    const actual = buf[start + i] ?? 0;
    if (actual === expected) continue;
    // Only letters compare case-insensitively; `x | 0x20` would also map CR onto '-'.
    if (expected < 0x61 || expected > 0x7a || (actual | 0x20) !== expected) return false;
  }
  return true;
}

/** Full lower-case name for any header name (compact forms expanded), for generic look-ups. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  // Only a one-letter name is a compact form. Looking any other name up in COMPACT_FORMS cost a
  // string-table probe per header (V8 internalizes a string used as a property key), which the
  // drachtio request view paid for every header of every request.
  return lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
}

/** The id of a header given by name (compact or full, any case); OTHER when not one we track. */
export function headerIdOf(name: string): HeaderId {
  return BY_NAME.get(canonicalName(name)) ?? HeaderId.OTHER;
}
