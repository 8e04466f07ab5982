import { parseNameAddr } from './name-addr.js';
import { paramValue, unquote, type Param } from './params.js';
import { parseUri, type SipUri } from './uri.js';

/** RFC 8599 §4 push parameters of one Contact. */
export interface PushParams {
  readonly provider: string | null;
  readonly prid: string | null;
  readonly param: string | null;
}

/** One Contact value of a REGISTER or a dialog-creating request. */
export interface ContactBinding {
  /** The Contact URI as written (without the angle brackets). */
  readonly uri: string;
  readonly parsedUri: SipUri | null;
  /** Header parameters (`expires`, `+sip.instance`, `q`, ...). */
  readonly params: readonly Param[];
  /**
   * The `expires` header parameter as the registrar reads it: delta-seconds, null when absent, NaN
   * when it cannot be read unambiguously (not 1-10 digits, quoted, empty, or given twice: Kamailio
   * takes the last of repeated parameters and the default expiry for a malformed one).
   */
  readonly expires: number | null;
  /** RFC 5626 `+sip.instance`, without its quotes and angle brackets (e.g. `urn:uuid:...`). */
  readonly instance: string | null;
  /**
   * RFC 8599 push parameters, read from the URI parameters where the RFC puts them, else from the
   * header parameters where some applications put them; null when there is no `pn-provider`.
   */
  readonly push: PushParams | null;
}

export interface ContactList {
  /** `Contact: *` (RFC 3261 §10.2.2), alone; only a removal with `Expires: 0`. */
  readonly star: boolean;
  readonly bindings: readonly ContactBinding[];
  /**
   * Some Contact value could not be read (not a name-addr, a `*` among others, a single quote the
   * SIP server would take for a quoted string): its binding is unknown, so the list never counts as
   * a removal.
   */
  readonly unreadable: boolean;
}

export const NO_CONTACTS: ContactList = Object.freeze({ star: false, bindings: Object.freeze([]), unreadable: false });

/** `Contact: *` alone. */
export const STAR_CONTACT: ContactList = Object.freeze({ star: true, bindings: Object.freeze([]), unreadable: false });

/**
 * Reads the Contact values of a request, as split from all its Contact lines. `Contact: *` counts
 * only alone (RFC 3261 §10.3 step 2; the registrar refuses it mixed with others).
 */
export function readContacts(values: readonly string[]): ContactList {
  if (values.length === 0) return NO_CONTACTS;
  if (values.length === 1 && values[0] === '*') return STAR_CONTACT;
  const bindings: ContactBinding[] = [];
  let unreadable = false;
  for (const text of values) {
    // Kamailio reads '...' as a quoted string in header parameters; the sidecar does not.
    const b = text.includes("'") ? null : parseContact(text);
    if (b === null) unreadable = true;
    else bindings.push(b);
  }
  return { star: false, bindings, unreadable };
}

/** Parses one Contact value; null when it is not a name-addr or addr-spec. */
export function parseContact(text: string): ContactBinding | null {
  const nameAddr = parseNameAddr(text);
  if (nameAddr === null) return null;
  const parsedUri = parseUri(nameAddr.uri);
  const instance = paramValue(nameAddr.params, '+sip.instance');
  return {
    uri: nameAddr.uri,
    parsedUri,
    params: nameAddr.params,
    expires: expiresParam(nameAddr.params),
    instance: instance === undefined || instance === null ? null : unwrapInstance(instance),
    push: pushParams(parsedUri?.params ?? [], nameAddr.params),
  };
}

/**
 * RFC 3261 §10.2.1.1: the Contact's expires parameter wins over the Expires header. NaN when
 * either that counts is unreadable.
 */
export function effectiveExpires(binding: ContactBinding, expiresHeader: number | null): number | null {
  return binding.expires ?? expiresHeader;
}

/**
 * A REGISTER that only removes bindings (RFC 3261 §10.2.2), read strictly, because a de-REGISTER
 * is passed unchecked (issue 7, hole 2): `Contact: *` alone with `Expires: 0`, or every Contact
 * readable and expiring at a well-formed 0. Anything the registrar could read as a binding — a
 * malformed or repeated `expires`, an unreadable Contact, a malformed or repeated Expires header
 * (`expiresHeader` NaN) — makes it an ordinary REGISTER. A REGISTER without Contact is a query.
 */
export function isDeregistration(contacts: ContactList, expiresHeader: number | null): boolean {
  if (contacts.unreadable) return false;
  if (contacts.star) return expiresHeader === 0;
  if (contacts.bindings.length === 0) return false;
  for (const b of contacts.bindings) if (effectiveExpires(b, expiresHeader) !== 0) return false;
  return true;
}

/**
 * delta-seconds (RFC 3261 §25.1) as 1-10 digits, capped at 2^32-1 as §20.19 allows; else NaN:
 * Kamailio reads a longer value, `0 junk` or `+0` its own way, so they are never taken for 0.
 */
export function deltaSeconds(value: string): number {
  const text = value.trim();
  if (!/^\d{1,10}$/.test(text)) return NaN;
  return Math.min(Number(text), 0xffffffff);
}

function expiresParam(params: readonly Param[]): number | null {
  let found: number | null = null;
  for (const p of params) {
    if (p.name !== 'expires') continue;
    if (found !== null || p.value === null) return NaN;
    found = deltaSeconds(p.value);
  }
  return found;
}

function unwrapInstance(value: string): string {
  let v = unquote(value.trim());
  if (v.startsWith('<')) v = v.slice(1);
  if (v.endsWith('>')) v = v.slice(0, -1);
  return v;
}

function pushParams(uriParams: readonly Param[], headerParams: readonly Param[]): PushParams | null {
  const from = paramValue(uriParams, 'pn-provider') !== undefined ? uriParams : headerParams;
  const provider = paramValue(from, 'pn-provider');
  if (provider === undefined) return null;
  const read = (name: string): string | null => {
    const v = paramValue(from, name);
    return v === undefined || v === null ? null : unquote(v);
  };
  return { provider: provider === null ? null : unquote(provider), prid: read('pn-prid'), param: read('pn-param') };
}
