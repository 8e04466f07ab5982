import { parseParams, paramValue, skipQuoted, unquote, type Param } from './params.js';
import { splitValues } from './split-values.js';

/**
 * One value of From, To, Contact, Route, Record-Route or Path: `display <uri>;params` or the
 * addr-spec form `uri;params`, in which everything after the first `;` belongs to the header,
 * not to the URI (RFC 3261 §20.10).
 */
export interface NameAddr {
  readonly display: string | null;
  readonly uri: string;
  /** Header parameters (`tag`, `expires`, `+sip.instance`, ...), names lower case. */
  readonly params: readonly Param[];
}

export function parseNameAddr(text: string): NameAddr | null {
  let i = 0;
  const end = text.length;
  let open = -1;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipQuoted(text, i, end);
      continue;
    }
    if (c === 0x3c) {
      open = i;
      break;
    }
    i++;
  }
  if (open >= 0) {
    const close = text.indexOf('>', open + 1);
    if (close < 0) return null;
    const displayText = text.slice(0, open).trim();
    return {
      display: displayText.length > 0 ? unquote(displayText) : null,
      uri: text.slice(open + 1, close).trim(),
      params: parseParams(text, close + 1),
    };
  }
  // addr-spec: the URI ends at the first ';' (or white space) after its scheme.
  const trimmed = text.trim();
  let uriEnd = 0;
  while (uriEnd < trimmed.length) {
    const c = trimmed.charCodeAt(uriEnd);
    if (c === 0x3b || c === 0x20 || c === 0x09) break;
    uriEnd++;
  }
  if (uriEnd === 0 || !trimmed.slice(0, uriEnd).includes(':')) return null;
  return { display: null, uri: trimmed.slice(0, uriEnd), params: parseParams(trimmed, uriEnd) };
}

/** The `tag` parameter (RFC 3261 §19.3); null when absent or empty. */
export function tagOf(nameAddr: NameAddr | null): string | null {
  if (nameAddr === null) return null;
  const tag = paramValue(nameAddr.params, 'tag');
  return tag === undefined || tag === null || tag.length === 0 ? null : tag;
}

/**
 * The value of a From or To header, which holds exactly one name-addr (RFC 3261 §20.20, §20.39);
 * null when absent, empty or a list, so that nothing is read from a value a registrar would reject.
 * Shared by the embedded proxy's SipMessage and the drachtio request view.
 */
export function parseSingleNameAddr(value: string | null | undefined): NameAddr | null {
  if (value === null || value === undefined) return null;
  const ranges = splitValues(value);
  if (ranges.length !== 2) return null;
  return parseNameAddr(value.slice(ranges[0], ranges[1]));
}
