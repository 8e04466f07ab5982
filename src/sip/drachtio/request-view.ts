import { isDeregistration, NO_CONTACTS, parseContact, parseDeltaSeconds, type ContactBinding, type ContactList } from '../contact.js';
import { digestUsername } from '../digest.js';
import type { RequestOrigin } from '../enforcement/enforcer.js';
import type { RequestView } from '../enforcement/request-view.js';
import { parseNameAddr, tagOf, type NameAddr } from '../name-addr.js';
import { splitValues } from '../split-values.js';
import type { DrachtioRequest } from './drachtio-types.js';
import { firstElement, splitCredentials } from './joined-values.js';

/**
 * A RequestView over a drachtio-srf request, parsed with the same helpers as the embedded proxy's
 * SipMessage so both transports feed the policy identical facts. drachtio-srf already split the
 * message into raw header values; everything here reads those values on first use and caches it.
 * Being lazy also means a parse fault surfaces inside `Enforcer.decide`, whose fail-open or
 * fail-closed setting then applies.
 */
export class DrachtioRequestView implements RequestView {
  #to: NameAddr | null | undefined;
  #from: NameAddr | null | undefined;
  #contacts: ContactList | undefined;
  #digestUsername: string | null | undefined;

  constructor(private readonly req: DrachtioRequest) {}

  get method(): string {
    return this.req.method;
  }

  get requestUri(): string {
    return this.req.uri;
  }

  get callId(): string | null {
    const v = this.req.get('Call-ID');
    return v === undefined ? null : firstElement(v);
  }

  get to(): NameAddr | null {
    if (this.#to === undefined) this.#to = parseSingle(this.req.get('To'));
    return this.#to;
  }

  get from(): NameAddr | null {
    if (this.#from === undefined) this.#from = parseSingle(this.req.get('From'));
    return this.#from;
  }

  /** The To tag (RFC 3261 §12.1): set on requests inside a dialog. */
  get toTag(): string | null {
    return tagOf(this.to);
  }

  /** Every Contact value of every line; `star` for `Contact: *` (RFC 3261 §10.2.2). */
  get contacts(): ContactList {
    if (this.#contacts === undefined) this.#contacts = parseContacts(this.req.get('Contact'));
    return this.#contacts;
  }

  /** The Expires header (RFC 3261 §20.19) of the first line; null when absent or not delta-seconds. */
  get expires(): number | null {
    const v = this.req.get('Expires');
    return v === undefined ? null : parseDeltaSeconds(firstElement(v));
  }

  get isDeregister(): boolean {
    return isDeregistration(this.contacts, this.expires);
  }

  /**
   * The Digest `username` of the first Authorization credentials that have one, else of the first
   * Proxy-Authorization (RFC 3261 §22); nothing else of the credentials is read.
   */
  get digestUsername(): string | null {
    if (this.#digestUsername === undefined) {
      this.#digestUsername = firstUsername(this.req.get('Authorization')) ?? firstUsername(this.req.get('Proxy-Authorization'));
    }
    return this.#digestUsername;
  }

  get userAgent(): string | null {
    return this.req.get('User-Agent') ?? null;
  }
}

/** Where the request came from, for the decision log. */
export function originOf(req: DrachtioRequest): RequestOrigin {
  const port = Number(req.source_port);
  return {
    transport: (req.protocol ?? 'unknown').toLowerCase(),
    address: req.source_address ?? 'unknown',
    port: Number.isInteger(port) ? port : 0,
  };
}

/** From and To hold exactly one name-addr (RFC 3261 §20.20, §20.39); anything else is not used. */
function parseSingle(value: string | undefined): NameAddr | null {
  if (value === undefined) return null;
  const ranges = splitValues(value);
  if (ranges.length !== 2) return null;
  return parseNameAddr(value.slice(ranges[0], ranges[1]));
}

function parseContacts(value: string | undefined): ContactList {
  if (value === undefined) return NO_CONTACTS;
  const ranges = splitValues(value);
  if (ranges.length === 0) return NO_CONTACTS;
  if (ranges.length === 2 && value.slice(ranges[0], ranges[1]) === '*') return { star: true, bindings: [] };
  const bindings: ContactBinding[] = [];
  for (let r = 0; r < ranges.length; r += 2) {
    const binding = parseContact(value.slice(ranges[r], ranges[r + 1]));
    if (binding !== null) bindings.push(binding);
  }
  return { star: false, bindings };
}

function firstUsername(value: string | undefined): string | null {
  if (value === undefined) return null;
  for (const credentials of splitCredentials(value)) {
    const name = digestUsername(credentials);
    if (name !== null) return name;
  }
  return null;
}
