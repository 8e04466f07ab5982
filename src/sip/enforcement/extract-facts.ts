import type { InviteFacts, RegisterFacts } from '../../policy/request-facts.js';
import type { ContactBinding, PushParams } from '../contact.js';
import { parseUri, userPart } from '../uri.js';
import type { RequestView } from './request-view.js';

/** How a request is recognised as coming from the mobile application (DESIGN.md §2). */
export interface AppDetection {
  /** A configured User-Agent pattern, besides RFC 8599 push parameters in the Contact. */
  readonly userAgent: RegExp | null;
}

/** The mobile-app part of a request: which install, and where its push notifications go. */
export interface AppInstallFacts {
  readonly installId: string;
  readonly push: PushParams | null;
  readonly contact: string | null;
}

export interface ExtractedRegister {
  readonly facts: RegisterFacts;
  readonly app: AppInstallFacts | null;
  /** Domain of the AOR (To), for the served-domains filter. */
  readonly domain: string | null;
}

export interface ExtractedInvite {
  readonly facts: InviteFacts;
  readonly app: AppInstallFacts | null;
  /** Domain of the caller (From), for the served-domains filter. */
  readonly domain: string | null;
}

/**
 * Identity: the digest username when present (it is what the SIP server authenticates), otherwise
 * the user part of `fallback` (To for REGISTER, From for INVITE) — DESIGN.md §2.
 */
function identityOf(view: RequestView, fallback: 'to' | 'from'): string | null {
  if (view.digestUsername) return view.digestUsername;
  const addr = view[fallback];
  return addr ? userPart(addr.uri) : null;
}

function domainOf(uri: string | undefined): string | null {
  if (!uri) return null;
  return parseUri(uri)?.host.toLowerCase() ?? null;
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
  const installId = binding?.instance ?? binding?.push?.prid ?? binding?.uri ?? null;
  if (installId === null) return null;
  return { installId, push: binding?.push ?? null, contact: binding?.uri ?? null };
}

export function extractRegister(view: RequestView, detection: AppDetection): ExtractedRegister {
  const isDeregister = view.isDeregister;
  // A de-REGISTER is never refused, so its install needs no identification.
  const app = isDeregister ? null : appFacts(view, detection);
  return {
    facts: {
      identity: identityOf(view, 'to'),
      isDeregister,
      isMobileApp: app !== null,
      installId: app?.installId ?? null,
    },
    app,
    domain: domainOf(view.to?.uri),
  };
}

export function extractInvite(view: RequestView, detection: AppDetection): ExtractedInvite {
  const app = appFacts(view, detection);
  return {
    facts: {
      identity: identityOf(view, 'from'),
      callee: userPart(view.requestUri),
      isMobileApp: app !== null,
      installId: app?.installId ?? null,
    },
    app,
    domain: domainOf(view.from?.uri),
  };
}
