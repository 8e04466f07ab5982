import type { Logger } from 'pino';
import type { DrachtioMiddleware, DrachtioRequest, SrfClient } from './drachtio-types.js';
import { DrachtioRequestView } from './request-view.js';

/**
 * The last middleware of `serve`: proxies what reached it to the upstream SIP server through
 * drachtio-server. An initial INVITE is record-routed so drachtio-server stays in the dialog and
 * relays its ACK/BYE itself (RFC 3261 §16.6 step 4); REGISTER and the other out-of-dialog methods
 * are not (a REGISTER would get a Path header, RFC 3327, which the upstream must support).
 * When drachtio-server cannot proxy it answers the request itself (483 or 500), so a failure is
 * only logged here.
 */
export function proxyMiddleware(srf: SrfClient, destination: string, logger: Logger): DrachtioMiddleware {
  return function proxyToUpstream(req: DrachtioRequest): void {
    const callId = req.get('Call-ID') ?? null;
    let recordRoute = false;
    try {
      recordRoute = req.method === 'INVITE' && new DrachtioRequestView(req).toTag === null;
      srf.proxyRequest(req, destination, { recordRoute }).then(
        (result) => logger.debug({ callId, method: req.method, finalStatus: result.finalStatus ?? null }, 'proxied'),
        (err: unknown) => logger.warn({ err, callId, method: req.method, destination }, 'drachtio-server could not proxy the request'),
      );
    } catch (err) {
      logger.error({ err, callId, method: req.method, destination }, 'proxying through drachtio-server failed');
    }
  };
}
