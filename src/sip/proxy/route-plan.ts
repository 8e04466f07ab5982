import { HeaderId } from '../message/header-names.js';
import { parseNameAddr } from '../message/name-addr.js';
import { paramValue } from '../message/params.js';
import { removalRanges } from '../message/remove-values.js';
import type { SipMessage } from '../message/sip-message.js';
import { parseUri, type SipUri } from '../message/uri.js';

/** What RFC 3261 §16.4 (route information preprocessing) does to one request. */
export interface RoutePlan {
  /** Byte ranges of Route values to cut. */
  readonly removals: ReadonlyArray<readonly [number, number]>;
  /** Strict-router case: the Request-URI to put in place of ours; null otherwise. */
  readonly requestUri: string | null;
  /** User parts (flow tokens) of the URIs of ours that were consumed, top first. */
  readonly tokens: readonly string[];
  /** URI of the first Route value that stays, i.e. the next hop; null when none stays. */
  readonly nextRoute: string | null;
}

const NO_ROUTE: RoutePlan = Object.freeze({ removals: Object.freeze([]), requestUri: null, tokens: Object.freeze([]), nextRoute: null });

/**
 * §16.4: when the Request-URI is a URI this proxy put in a Record-Route (ours, with `lr`), the
 * previous hop was a strict router: the last Route value becomes the Request-URI again. Then every
 * top Route value that is ours is removed — one or two, as the proxy record-routes twice when the
 * transport changes (the "double Record-Route" of RFC 5658 §4).
 */
export function planRoute(request: SipMessage, isLocal: (uri: SipUri) => boolean): RoutePlan {
  // Most requests carry no Route: nothing to plan, nothing to allocate.
  if ((request.layout.first[HeaderId.ROUTE] ?? -1) < 0) return NO_ROUTE;
  const routes = request.values(HeaderId.ROUTE);
  const removed = new Set<number>();
  const tokens: string[] = [];
  let requestUri: string | null = null;
  let end = routes.length;

  const last = routes[end - 1];
  // Without Route values there is nothing to restore: the Request-URI is not even parsed.
  const ruri = last === undefined ? null : parseUri(request.requestUri);
  if (last !== undefined && ruri !== null && isLocal(ruri) && paramValue(ruri.params, 'lr') !== undefined) {
    const lastUri = parseNameAddr(last.text)?.uri;
    if (lastUri !== undefined) {
      requestUri = lastUri;
      removed.add(end - 1);
      end--;
      if (ruri.user !== null) tokens.push(ruri.user);
    }
  }

  let nextRoute: string | null = null;
  for (let i = 0; i < end; i++) {
    const value = routes[i];
    const uriText = value === undefined ? undefined : parseNameAddr(value.text)?.uri;
    const uri = uriText === undefined ? null : parseUri(uriText);
    if (uri === null || !isLocal(uri)) {
      nextRoute = uriText ?? null;
      break;
    }
    removed.add(i);
    if (uri.user !== null) tokens.push(uri.user);
  }

  return { removals: removed.size === 0 ? [] : removalRanges(routes, removed), requestUri, tokens, nextRoute };
}
