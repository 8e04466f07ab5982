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
  /** The `expires` header parameter, null when absent or not a number. */
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
  /** `Contact: *` (RFC 3261 §10.2.2), only meaningful with `Expires: 0`. */
  readonly star: boolean;
  readonly bindings: readonly ContactBinding[];
}

export const NO_CONTACTS: ContactList = Object.freeze({ star: false, bindings: Object.freeze([]) });

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
    expires: parseDeltaSeconds(paramValue(nameAddr.params, 'expires')),
    instance: instance === undefined || instance === null ? null : unwrapInstance(instance),
    push: pushParams(parsedUri?.params ?? [], nameAddr.params),
  };
}

/** RFC 3261 §10.2.1.1: the Contact's expires parameter wins over the Expires header. */
export function effectiveExpires(binding: ContactBinding, expiresHeader: number | null): number | null {
  return binding.expires ?? expiresHeader;
}

/**
 * A REGISTER that only removes bindings (RFC 3261 §10.2.2): `Contact: *`, or every Contact
 * expiring at 0. A REGISTER without Contact is a query, not a removal.
 */
export function isDeregistration(contacts: ContactList, expiresHeader: number | null): boolean {
  if (contacts.star) return true;
  if (contacts.bindings.length === 0) return false;
  return contacts.bindings.every((b) => effectiveExpires(b, expiresHeader) === 0);
}

/** delta-seconds (RFC 3261 §25.1); values past 2^32-1 are capped as §20.19 allows. */
export function parseDeltaSeconds(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (!/^\d{1,20}$/.test(text)) return null;
  return Math.min(Number(text), 0xffffffff);
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
