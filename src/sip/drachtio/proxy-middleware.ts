import type { Logger } from 'pino';
import type { DrachtioMiddleware, DrachtioRequest, DrachtioResponse, ProxyCallback, SrfClient } from './drachtio-types.js';
import { relayDirectly } from './direct-relay.js';
import { DrachtioRequestView } from './drachtio-request-view.js';
import { requestUriUser, upstreamUri, type UpstreamTarget } from './upstream-uri.js';

/**
 * The last middleware of `serve`: proxies what reached it to the upstream SIP server through
 * drachtio-server. An initial INVITE is record-routed so drachtio-server stays in the dialog and
 * relays its ACK/BYE itself (RFC 3261 §16.6 step 4); REGISTER and the other out-of-dialog methods
 * are not (a REGISTER would get a Path header, RFC 3327, which the upstream must support).
 * When drachtio-server cannot proxy it answers the request itself (483 or 500), so a failure is
 * only logged here; a fault before the request reached drachtio-server is answered 500.
 *
 * Two requests are not handed to drachtio-server's proxy as they are:
 * - a REGISTER with `Contact: *` is sent to the upstream from sipwarden's own socket (see
 *   direct-relay.ts): drachtio-server 0.9.10 crashes on it;
 * - the destination carries the Request-URI's user part, which drachtio-server would otherwise
 *   drop when the Request-URI names drachtio-server itself (see upstream-uri.ts).
 */
export function proxyMiddleware(srf: SrfClient, upstream: UpstreamTarget, logger: Logger): DrachtioMiddleware {
  const nextHop = upstreamUri(upstream);
  return function proxyToUpstream(req: DrachtioRequest, res: DrachtioResponse): void {
    let destination = nextHop;
    try {
      const user = requestUriUser(req.uri);
      if (user !== null) destination = upstreamUri(upstream, user);
      const view = DrachtioRequestView.of(req);
      if (req.method === 'REGISTER' && view.contacts.star) {
        relayDirectly(req, res, { upstream, logger });
        return;
      }
      const recordRoute = req.method === 'INVITE' && view.toTag === null;
      const done: ProxyCallback = (err, result) => {
        if (err) logger.warn({ err, callId: callIdOf(req), method: req.method, destination }, 'drachtio-server could not proxy the request');
        else if (logger.isLevelEnabled('debug')) logger.debug({ callId: callIdOf(req), method: req.method, finalStatus: result?.finalStatus ?? null }, 'proxied');
      };
      // The callback form: no Promise and no microtask per request. A throw from drachtio-srf
      // (its connection gone) is told to the callback, as the Promise form rejected with it.
      try {
        srf.proxyRequest(req, destination, { recordRoute }, done);
      } catch (err) {
        done(err);
      }
    } catch (err) {
      logger.error({ err, callId: callIdOf(req), method: req.method, destination }, 'proxying through drachtio-server failed');
      if (!res.finalResponseSent) res.send(500, 'Server Internal Error', { headers: {} });
    }
  };
}

/** Read only when a line is written: drachtio-srf's `req.get` searches every header name. */
function callIdOf(req: DrachtioRequest): string | null {
  return req.get('Call-ID') ?? null;
}
