import { parseParams, paramValue, type Param } from './params.js';

/** One Via value (RFC 3261 §20.42) with the parameters the proxy reads and writes. */
export interface Via {
  /** Upper-case transport of the sent-protocol: UDP, TCP, TLS, WS, WSS, SCTP. */
  readonly transport: string;
  /** sent-by host, IPv6 without brackets, lower case. */
  readonly host: string;
  readonly port: number | null;
  readonly params: readonly Param[];
  readonly branch: string | null;
  readonly received: string | null;
  /** RFC 3581: present at all (`;rport`), and its value once a server filled it in. */
  readonly hasRport: boolean;
  readonly rport: number | null;
  /** RFC 5923 `alias`: the sender lets its connection be reused for requests to its sent-by. */
  readonly alias: boolean;
  /** The value's text and its absolute `[start, end)` in the message. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const SENT_BY = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:[\]]+)(?:\s*:\s*(\d{1,5}))?\s*/i;

/** Parses one Via value; `start` is its absolute offset in the message. Null when malformed. */
export function parseVia(text: string, start: number): Via | null {
  const m = SENT_BY.exec(text);
  if (m === null) return null;
  const transport = (m[1] ?? '').toUpperCase();
  let host = (m[2] ?? '').toLowerCase();
  if (host.startsWith('[')) host = host.slice(1, -1);
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && (port === 0 || port > 65535)) return null;
  const rest = m[0].length;
  if (rest < text.length && text.charCodeAt(rest) !== 0x3b) return null;
  const params = parseParams(text, rest);
  const rport = paramValue(params, 'rport');
  const rportNumber = rport === undefined || rport === null ? null : Number(rport);
  return {
    transport,
    host,
    port,
    params,
    branch: paramValue(params, 'branch') ?? null,
    received: paramValue(params, 'received') ?? null,
    hasRport: rport !== undefined,
    rport: rportNumber !== null && Number.isInteger(rportNumber) && rportNumber > 0 && rportNumber < 65536 ? rportNumber : null,
    alias: paramValue(params, 'alias') !== undefined,
    text,
    start,
    end: start + text.length,
  };
}

/** The default port of a transport when a Via or URI names none (RFC 3261 §18.2.2, §19.1.2). */
export function defaultPort(transport: string): number {
  const t = transport.toUpperCase();
  return t === 'TLS' || t === 'WSS' ? 5061 : t === 'WS' ? 80 : 5060;
}

/**
 * The top Via as a server transport leaves it (RFC 3261 §18.2.1, RFC 3581 §4): `received` when the
 * packet came from another address than sent-by, `rport` filled in when asked for (or always, with
 * `forceRport`, which stream transports need to find the connection again). Returns the new value,
 * or null when nothing changes.
 */
export function stampVia(via: Via, sourceAddress: string, sourcePort: number, forceRport: boolean): string | null {
  const needRport = via.hasRport || forceRport;
  // RFC 3581 §4: with rport, received is added even when it equals sent-by.
  const needReceived = needRport || via.host !== sourceAddress.toLowerCase() || via.received !== null;
  if (!needReceived) return null;
  if (via.received === sourceAddress && (!needRport || via.rport === sourcePort)) return null;
  let out = '';
  let from = 0;
  for (const p of via.params) {
    if (p.name === 'received' || p.name === 'rport') {
      out += via.text.slice(from, p.start);
      from = p.end;
    }
  }
  out += via.text.slice(from);
  if (needReceived) out += `;received=${sourceAddress}`;
  if (needRport) out += `;rport=${sourcePort}`;
  return out;
}
