import type { Logger } from 'pino';
import { buildForwardedRequest, type OwnVia } from '../proxy/forward-request.js';
import { canonicalName, HeaderId } from '../message/header-names.js';
import { latin1 } from '../message/latin1.js';
import { parseMessage } from '../message/parse-message.js';
import { HEADER_STRIDE, type SipMessage } from '../message/sip-message.js';
import { runNonInviteTransaction, type TransactionTimers } from '../proxy/upstream-transaction.js';
import type { DrachtioRequest, DrachtioResponse } from './drachtio-types.js';
import type { UpstreamTarget } from './upstream-uri.js';

/**
 * Headers of the upstream's response that are not passed to drachtio-srf: those it writes for the
 * client's own transaction (Via, From, To with drachtio-server's tag, Call-ID, CSeq: RFC 3261
 * §8.2.6.2), the body's (no body is relayed), and `Expires`: on a 200 to a TCP/WS client's
 * REGISTER, drachtio-server reads it to cache the client's connection under its Contact host,
 * which `Contact: *` does not have (drachtio-server `SipDialogController::doRespondToSipRequest`).
 */
const NOT_RELAYED: ReadonlySet<HeaderId> = new Set([
  HeaderId.VIA, HeaderId.FROM, HeaderId.TO, HeaderId.CALL_ID, HeaderId.CSEQ, HeaderId.CONTENT_LENGTH,
  HeaderId.RECORD_ROUTE, HeaderId.ROUTE, HeaderId.EXPIRES,
]);
const NOT_RELAYED_BY_NAME: ReadonlySet<string> = new Set(['content-type', 'content-encoding']);

const NO_ROUTE_EDITS = { removals: [], requestUri: null, tokens: [], nextRoute: null } as const;

export interface DirectRelayOptions {
  readonly upstream: UpstreamTarget;
  readonly logger: Logger;
  readonly timers?: TransactionTimers;
}

/**
 * Sends `req` to the upstream from a socket of sipwarden's own, as a stateless proxy forwards it
 * (RFC 3261 §16.6: our Via on top, Max-Forwards decremented, everything else as the client sent
 * it, so the registrar applies §10.3 to the client's own Call-ID, CSeq and credentials), then
 * answers the client through drachtio-server with the final response: status, reason and the
 * headers a client acts on (Contact, WWW-Authenticate, Retry-After, ...). No final response within
 * Timer F: 408; the upstream unreachable: 500 (§16.7 step 6, §16.9).
 *
 * Only for what drachtio-server cannot carry: a REGISTER with `Contact: *` (RFC 3261 §10.2.2)
 * crashes drachtio-server 0.9.10 when it proxies one (it reads the Contact host, which `*` does
 * not have, in `ProxyCore::ServerTransaction::forwardResponse` when the 200 comes back) and when it
 * sends one as a new request (`srf.request`: sofia-sip's `outgoing_update_contact` reads it too).
 */
export function relayDirectly(req: DrachtioRequest, res: DrachtioResponse, options: DirectRelayOptions): void {
  const log = options.logger.child({ callId: req.get('Call-ID') ?? null, method: req.method });
  const parsed = parseMessage(Buffer.from(req.raw, 'utf8'));
  if (!parsed.ok) {
    log.info({ problem: parsed.problem }, 'cannot relay a request that does not parse; answering 400');
    answer(res, 400, 'Bad Request', {}, log);
    return;
  }
  const request = parsed.message;
  if (request.maxForwards === 0) {
    answer(res, 483, 'Too Many Hops', {}, log); // RFC 3261 §16.3 step 3
    return;
  }
  const { upstream } = options;
  const build = (via: OwnVia): Buffer => buildForwardedRequest(request, { plan: NO_ROUTE_EDITS, via, stampedTopVia: null, recordRoute: [], path: null });
  void runNonInviteTransaction(upstream, build, options.timers).then((outcome) => {
    if (outcome.kind === 'response') {
      const r = outcome.response;
      log.debug({ status: r.status }, 'relayed past drachtio-server; final response');
      answer(res, r.status, r.reason, relayedHeaders(r), log);
    } else if (outcome.kind === 'timeout') {
      log.warn({ upstream: `${upstream.host}:${upstream.port}` }, 'no final response from the upstream; answering 408');
      answer(res, 408, 'Request Timeout', {}, log);
    } else {
      log.warn({ err: outcome.error, upstream: `${upstream.host}:${upstream.port}` }, 'cannot reach the upstream; answering 500');
      answer(res, 500, 'Server Internal Error', {}, log);
    }
  });
}

/** The response's headers for drachtio-srf: by name as written, repeated lines joined with `,`. */
function relayedHeaders(response: SipMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const h = response.layout.headers;
  for (let at = 0; at < h.length; at += HEADER_STRIDE) {
    if (NOT_RELAYED.has(h[at] as HeaderId)) continue;
    const line = latin1(response.buf, h[at + 1] ?? 0, h[at + 2] ?? 0);
    const name = line.slice(0, line.indexOf(':')).trim();
    if (name === '' || NOT_RELAYED_BY_NAME.has(canonicalName(name))) continue;
    const value = latin1(response.buf, h[at + 2] ?? 0, h[at + 3] ?? 0);
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

function answer(res: DrachtioResponse, status: number, reason: string, headers: Record<string, string>, log: Logger): void {
  if (res.finalResponseSent) return;
  try {
    res.send(status, reason, { headers });
  } catch (err) {
    log.error({ err, status }, 'answering the client failed');
  }
}
