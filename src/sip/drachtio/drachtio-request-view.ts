import { deltaSeconds, isDeregistration, readContacts, type ContactList } from '../message/contact.js';
import { AMBIGUOUS, digestUser } from '../message/digest.js';
import type { RequestOrigin } from '../enforcement/enforcer.js';
import type { RequestView } from '../enforcement/request-view.js';
import { canonicalName } from '../message/header-names.js';
import { canonicalMethod } from '../message/method.js';
import { parseSingleNameAddr, tagOf, type NameAddr } from '../message/name-addr.js';
import { splitValues } from '../message/split-values.js';
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
  #headers: HeaderIndex | undefined;
  #to: NameAddr | null | undefined;
  #from: NameAddr | null | undefined;
  #contacts: ContactList | undefined;
  #digestUsers: readonly string[] | null | undefined;

  constructor(private readonly req: DrachtioRequest) {}

  /** The view of `req`, made once per request: the enforcement step and the proxy step share its parses. */
  static of(req: DrachtioRequest): DrachtioRequestView {
    // Kept on the request itself under a symbol of ours: a WeakMap entry per request cost a
    // microsecond more (profile of bench-drachtio-micro), and the view dies with its request.
    const holder = req as DrachtioRequest & { [VIEW]?: DrachtioRequestView };
    return (holder[VIEW] ??= new DrachtioRequestView(req));
  }

  /** As the SIP server reads it: `register` is REGISTER (see readMethod). */
  get method(): string {
    return canonicalMethod(this.req.method);
  }

  get requestUri(): string {
    return this.req.uri;
  }

  get callId(): string | null {
    const v = this.#header('call-id');
    return v === undefined ? null : firstElement(v);
  }

  get to(): NameAddr | null {
    if (this.#to === undefined) this.#to = parseSingleNameAddr(this.#header('to'));
    return this.#to;
  }

  get from(): NameAddr | null {
    if (this.#from === undefined) this.#from = parseSingleNameAddr(this.#header('from'));
    return this.#from;
  }

  /** The To tag (RFC 3261 §12.1): set on requests inside a dialog. */
  get toTag(): string | null {
    return tagOf(this.to);
  }

  /** Every Contact value of every line; `star` for `Contact: *` alone (RFC 3261 §10.2.2). */
  get contacts(): ContactList {
    if (this.#contacts === undefined) this.#contacts = readContacts(elements(this.#header('contact')));
    return this.#contacts;
  }

  /**
   * The Expires header (RFC 3261 §20.19); null when absent, NaN when malformed or on several lines
   * (drachtio-srf joins them with commas, which no delta-seconds holds).
   */
  get expires(): number | null {
    const v = this.#header('expires');
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
        collectUsers(this.#header('authorization'), users) && collectUsers(this.#header('proxy-authorization'), users) ? users : null;
    }
    return this.#digestUsers;
  }

  get userAgent(): string | null {
    return this.#header('user-agent') ?? null;
  }

  /**
   * A header's value by full lower-case name. drachtio-srf's `req.get` searches its header object
   * case-insensitively on every call (`Object.keys(...).find`), which was a third of this view's
   * cost; the object is indexed here once instead, by the same rule (any case, compact forms).
   */
  #header(name: string): string | undefined {
    this.#headers ??= new HeaderIndex(this.req.headers);
    return this.#headers.get(name);
  }
}

const VIEW = Symbol('sipwarden.requestView');

/** A header drachtio-srf keyed as written, by its canonical name: its place among the keys and its value. */
interface WrittenAs {
  readonly at: number;
  readonly value: string;
}

/**
 * drachtio-srf's headers by canonical name; where two names meet, the first wins, as in `req.get`.
 * drachtio-srf's parser keys most headers by canonical name already (lower case, compact forms
 * expanded), so those are read from its object as they are; only the keys it left as written
 * (X-, P-, DRACHTIO_PRESERVE_HEADER_NAMES) are indexed apart. A Map of every header per request
 * was most of this view's cost.
 */
class HeaderIndex {
  readonly #headers: Readonly<Record<string, string>>;
  readonly #names: readonly string[];
  /** Keys not in canonical form, by canonical name (the first of each); null when there are none. */
  readonly #writtenAs: ReadonlyMap<string, WrittenAs> | null;

  constructor(headers: Readonly<Record<string, string>>) {
    this.#headers = headers;
    this.#names = Object.keys(headers);
    let writtenAs: Map<string, WrittenAs> | null = null;
    for (let at = 0; at < this.#names.length; at++) {
      const name = this.#names[at] as string;
      const key = canonicalName(name);
      const value = headers[name];
      if (key === name || value === undefined) continue;
      writtenAs ??= new Map();
      if (!writtenAs.has(key)) writtenAs.set(key, { at, value });
    }
    this.#writtenAs = writtenAs;
  }

  /** The value of the first key whose canonical name is `name` (lower case, full form). */
  get(name: string): string | undefined {
    const own = Object.hasOwn(this.#headers, name) ? this.#headers[name] : undefined;
    const written = this.#writtenAs?.get(name);
    if (written === undefined) return own;
    if (own === undefined) return written.value;
    return this.#names.indexOf(name) < written.at ? own : written.value;
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
