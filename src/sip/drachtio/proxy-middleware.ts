import type { Logger } from 'pino';
import type { DrachtioMiddleware, DrachtioRequest, DrachtioResponse, SrfClient } from './drachtio-types.js';
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
    const callId = req.get('Call-ID') ?? null;
    let destination = nextHop;
    try {
      destination = upstreamUri(upstream, requestUriUser(req.uri));
      const view = DrachtioRequestView.of(req);
      if (req.method === 'REGISTER' && view.contacts.star) {
        relayDirectly(req, res, { upstream, logger });
        return;
      }
      const recordRoute = req.method === 'INVITE' && view.toTag === null;
      srf.proxyRequest(req, destination, { recordRoute }).then(
        (result) => logger.debug({ callId, method: req.method, finalStatus: result.finalStatus ?? null }, 'proxied'),
        (err: unknown) => logger.warn({ err, callId, method: req.method, destination }, 'drachtio-server could not proxy the request'),
      );
    } catch (err) {
      logger.error({ err, callId, method: req.method, destination }, 'proxying through drachtio-server failed');
      if (!res.finalResponseSent) res.send(500, 'Server Internal Error', { headers: {} });
    }
  };
}
