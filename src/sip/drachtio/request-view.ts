import { deltaSeconds, isDeregistration, readContacts, type ContactList } from '../contact.js';
import { AMBIGUOUS, digestUser } from '../digest.js';
import type { RequestOrigin } from '../enforcement/enforcer.js';
import type { RequestView } from '../enforcement/request-view.js';
import { canonicalMethod } from '../method.js';
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
  #digestUsers: readonly string[] | null | undefined;

  constructor(private readonly req: DrachtioRequest) {}

  /** As the SIP server reads it: `register` is REGISTER (see readMethod). */
  get method(): string {
    return canonicalMethod(this.req.method);
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

  /** Every Contact value of every line; `star` for `Contact: *` alone (RFC 3261 §10.2.2). */
  get contacts(): ContactList {
    if (this.#contacts === undefined) this.#contacts = readContacts(elements(this.req.get('Contact')));
    return this.#contacts;
  }

  /**
   * The Expires header (RFC 3261 §20.19); null when absent, NaN when malformed or on several lines
   * (drachtio-srf joins them with commas, which no delta-seconds holds).
   */
  get expires(): number | null {
    const v = this.req.get('Expires');
    return v === undefined ? null : deltaSeconds(v);
  }

  get isDeregister(): boolean {
    return isDeregistration(this.contacts, this.expires);
  }

  /**
   * The digest user of every Authorization and Proxy-Authorization credentials (RFC 3261 §22);
   * null when one is ambiguous. Nothing else of the credentials is read.
   */
  get digestUsers(): readonly string[] | null {
    if (this.#digestUsers === undefined) {
      const users: string[] = [];
      this.#digestUsers =
        collectUsers(this.req.get('Authorization'), users) && collectUsers(this.req.get('Proxy-Authorization'), users) ? users : null;
    }
    return this.#digestUsers;
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

function elements(value: string | undefined): string[] {
  if (value === undefined) return [];
  const ranges = splitValues(value);
  const out: string[] = [];
  for (let r = 0; r < ranges.length; r += 2) out.push(value.slice(ranges[r], ranges[r + 1]));
  return out;
}

/** Adds the digest user of each credentials value to `users`; false when one is ambiguous. */
function collectUsers(value: string | undefined, users: string[]): boolean {
  if (value === undefined) return true;
  for (const credentials of splitCredentials(value)) {
    const user = digestUser(credentials);
    if (user === AMBIGUOUS) return false;
    if (user !== null) users.push(user);
  }
  return true;
}
