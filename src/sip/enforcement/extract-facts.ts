import { installIdOf, type InstallKeys } from '../../policy/install-keys.js';
import { normalizeNumber } from '../../policy/normalize-number.js';
import type { InviteFacts, RegisterFacts } from '../../policy/request-facts.js';
import { readAorUser } from '../message/aor.js';
import type { ContactBinding, PushParams } from '../message/contact.js';
import { paramValue } from '../message/params.js';
import type { RequestView } from './request-view.js';
import type { ServedDomains } from './served-domains.js';

/** How a request is recognised as coming from the mobile application (DESIGN.md §2). */
export interface AppDetection {
  /** A configured User-Agent pattern, besides RFC 8599 push parameters in the Contact. */
  readonly userAgent: RegExp | null;
}

/** The mobile-app part of a request: which install, and where its push notifications go. */
export interface AppInstallFacts {
  /** Its strongest identifier; the enforcer may recognise it as a stored install by another (`keys`). */
  readonly installId: string;
  /** Every identifier it carries: `+sip.instance`, `pn-prid`, Contact URI. */
  readonly keys: InstallKeys;
  readonly push: PushParams | null;
  readonly contact: string | null;
}

export interface ExtractedRegister {
  readonly facts: RegisterFacts;
  readonly app: AppInstallFacts | null;
  /** False when the AoR's domain is one the sidecar does not license (see ServedDomains). */
  readonly served: boolean;
}

export interface ExtractedInvite {
  readonly facts: InviteFacts;
  readonly app: AppInstallFacts | null;
  /** False when neither the caller's nor the callee's domain is licensed here. */
  readonly served: boolean;
}

const NO_CREDENTIALS: readonly string[] = Object.freeze([]);

/** An identity read from a URI: the number (null when the URI has no user part), or unreadable. */
interface Identity {
  readonly number: string | null;
  readonly unreadable: boolean;
}

const NO_NUMBER: Identity = Object.freeze({ number: null, unreadable: false });
const UNREADABLE: Identity = Object.freeze({ number: null, unreadable: true });

/** The user part of `uri` as the registrar reads it (see readAorUser), as a number. */
function identityIn(uri: string): Identity {
  const user = readAorUser(uri);
  if (user === null) return UNREADABLE;
  return user === '' ? NO_NUMBER : { number: user, unreadable: false };
}

/** The digest users, as numbers; null when a credentials value is ambiguous. */
function credentialsOf(view: RequestView): readonly string[] | null {
  const users = view.digestUsers;
  if (users === null) return null;
  return users.length === 0 ? NO_CREDENTIALS : users.map(normalizeNumber);
}

/** The first Contact that carries RFC 8599 push parameters, else the first Contact. */
function appBinding(bindings: readonly ContactBinding[]): ContactBinding | undefined {
  return bindings.find((b) => b.push !== null) ?? bindings[0];
}

/**
 * Mobile app when the Contact carries RFC 8599 push parameters or the User-Agent matches. The
 * install is `+sip.instance` (RFC 5626 §4.1), else `pn-prid` (RFC 8599 §4), else the Contact URI.
 */
function appFacts(view: RequestView, detection: AppDetection): AppInstallFacts | null {
  const binding = appBinding(view.contacts.bindings);
  const byPush = binding?.push != null;
  const byAgent = detection.userAgent !== null && view.userAgent !== null && detection.userAgent.test(view.userAgent);
  if (!byPush && !byAgent) return null;
  const keys: InstallKeys = {
    instance: binding === undefined ? null : (binding.instance ?? gruuInstance(binding)),
    prid: binding?.push?.prid ?? null,
    contact: binding === undefined ? null : contactKey(binding.uri),
  };
  const installId = installIdOf(keys);
  if (installId === null) return null;
  return { installId, keys, push: binding?.push ?? null, contact: keys.contact };
}

/**
 * The Contact URI as an install's identifier: without the RFC 5626 §5.4 `ob` parameter, which an
 * outbound client (sip.js with `regId`) adds to its dialog Contacts but not to the one it registers.
 */
function contactKey(uri: string): string {
  return uri.replace(/;ob(?=[;?]|$)/gi, '');
}

/**
 * The instance named by a public GRUU Contact (RFC 5627 §3.1.1: the AOR with `gr` set to the
 * `+sip.instance` it was registered with). A client that got a GRUU at REGISTER (Kamailio's
 * registrar hands one out) sends it as the Contact of its INVITEs instead of its own URI, without
 * `+sip.instance` or push parameters; only `urn:` values name an instance (a temporary GRUU's
 * `gr` is opaque).
 */
function gruuInstance(binding: ContactBinding): string | null {
  const gr = binding.parsedUri === null ? undefined : paramValue(binding.parsedUri.params, 'gr');
  return typeof gr === 'string' && gr.toLowerCase().startsWith('urn:') ? gr : null;
}

/**
 * A REGISTER's facts: the AoR is the To user part as the registrar binds it (DESIGN.md §2), the
 * digest user of each credentials is another identity to decide on, and anything of them that
 * cannot be read unambiguously is named in `unreadable`.
 */
export function extractRegister(view: RequestView, detection: AppDetection, domains: ServedDomains): ExtractedRegister {
  const to = view.to;
  const aor = to === null ? UNREADABLE : identityIn(to.uri);
  const credentials = credentialsOf(view);
  const isDeregister = view.isDeregister;
  // A de-REGISTER is never refused, but its install is identified: it counts as seen (the idle
  // release gives back the licence of an install that neither registers nor de-registers).
  const app = appFacts(view, detection);
  return {
    facts: {
      identity: aor.number,
      credentials: credentials ?? NO_CREDENTIALS,
      unreadable: aor.unreadable ? 'the To user part' : credentials === null ? 'a digest username' : null,
      isDeregister,
      isMobileApp: app !== null,
      installId: app?.installId ?? null,
    },
    app,
    served: to === null || domains.serves(to.uri),
  };
}

/**
 * An initial INVITE's facts: the caller is the From user part and its credentials, the callee the
 * Request-URI user part as the registrar looks it up. A side whose domain is not licensed here is
 * not checked.
 */
export function extractInvite(view: RequestView, detection: AppDetection, domains: ServedDomains): ExtractedInvite {
  const from = view.from;
  const callerServed = from === null || domains.serves(from.uri);
  const calleeServed = domains.serves(view.requestUri);
  const caller = !callerServed ? NO_NUMBER : from === null ? UNREADABLE : identityIn(from.uri);
  const callee = calleeServed ? identityIn(view.requestUri) : NO_NUMBER;
  const credentials = callerServed ? credentialsOf(view) : NO_CREDENTIALS;
  const app = callerServed ? appFacts(view, detection) : null;
  let unreadable: string | null = null;
  if (caller.unreadable) unreadable = 'the From user part';
  else if (credentials === null) unreadable = 'a digest username';
  else if (callee.unreadable) unreadable = 'the Request-URI user part';
  return {
    facts: {
      identity: caller.number,
      credentials: credentials ?? NO_CREDENTIALS,
      unreadable,
      callee: callee.number,
      skipCaller: !callerServed,
      isMobileApp: app !== null,
      installId: app?.installId ?? null,
    },
    app,
    served: callerServed || calleeServed,
  };
}

/**
 * The facts of an INVITE the SIP server relays to a client (issue 9, item 2): the caller is not
 * checked (`skipCaller`); the callee is the To AoR, read as the registrar reads it (the
 * Request-URI is the client's Contact by now, e.g. a random user part). Not served when the To
 * domain is not.
 */
export function extractInviteToClient(view: RequestView, domains: ServedDomains): ExtractedInvite {
  const to = view.to;
  const callee = to === null ? UNREADABLE : identityIn(to.uri);
  return {
    facts: {
      identity: null,
      credentials: NO_CREDENTIALS,
      unreadable: callee.unreadable ? 'the To user part' : null,
      callee: callee.number,
      skipCaller: true,
      isMobileApp: false,
      installId: null,
    },
    app: null,
    served: to === null || domains.serves(to.uri),
  };
}
