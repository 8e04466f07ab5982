import type { Logger } from 'pino';
import type { DrachtioRequest, DrachtioResponse, SentRequest, SrfClient, UacResponse } from './drachtio-types.js';

/**
 * Non-INVITE transaction timeout (Timer F = 64·T1, RFC 3261 §17.1.2.2): when no final response
 * came by then, the client is answered 408 rather than left to its own timer.
 */
export const RELAY_TIMEOUT_MS = 32_000;

/** Set by drachtio-server on the hop (Via, Route, Record-Route, lengths), or by us (Max-Forwards). */
const NOT_COPIED_TO_REQUEST = new Set(['via', 'route', 'record-route', 'content-length', 'max-forwards']);

/**
 * Response headers drachtio-server or drachtio-srf write for the client's own transaction (Via,
 * From, To with its tag, Call-ID, CSeq: RFC 3261 §8.2.6.2), plus the body's headers, as no body is
 * relayed. `Expires` stays out too: on a 200 to a TCP/WS client's REGISTER drachtio-server reads it
 * to cache the client's connection under its Contact host, which `Contact: *` does not have
 * (drachtio-server `SipDialogController::doRespondToSipRequest`).
 */
const NOT_COPIED_TO_RESPONSE = new Set([
  'via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'content-type', 'record-route', 'route', 'expires',
]);

export interface UacRelayOptions {
  /** The upstream, as the next hop: `sip:10.0.0.2:5060;transport=udp`. */
  readonly nextHop: string;
  /**
   * The Request-URI to use instead of the client's when that one names drachtio-server itself
   * (which refuses to send a request to itself): the upstream URI with the client's user part.
   */
  readonly ownUriReplacement: string;
  readonly logger: Logger;
  /** Default RELAY_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/**
 * Sends `req` on to the upstream as a new request of drachtio-server's UAC (`srf.request`) and
 * answers the client's transaction with the final response: status, reason and the headers a
 * client acts on (Contact, WWW-Authenticate, Retry-After, ...), so a challenge still reaches it.
 *
 * This is for requests that drachtio-server's proxy cannot be given: drachtio-server 0.9.10 (and
 * its HEAD at the time of writing) dereferences the Contact host of a proxied REGISTER when the
 * 200 comes back (`ProxyCore::ServerTransaction::forwardResponse`, `strstr(url_host, ".invalid")`),
 * and `Contact: *` (RFC 3261 §10.2.2) has none: it crashes, and with it every client's SIP.
 *
 * The request keeps its From, To, Call-ID and CSeq, so the registrar applies the RFC 3261 §10.3
 * step 6 rules to the client's own Call-ID and CSeq, and its credentials (the digest `uri` names the
 * client's Request-URI, which is kept). Max-Forwards is decremented as a proxy does (§16.6 step 3).
 */
export function relayAsUac(srf: SrfClient, req: DrachtioRequest, res: DrachtioResponse, options: UacRelayOptions): void {
  const log = options.logger.child({ callId: req.get('Call-ID') ?? null, method: req.method });
  const maxForwards = req.get('Max-Forwards');
  const hops = maxForwards === undefined ? 70 : Number(maxForwards.trim());
  if (Number.isInteger(hops) && hops <= 0) {
    answer(res, 483, 'Too Many Hops', {}, log);
    return;
  }
  const headers: Record<string, string> = { 'Max-Forwards': String(Number.isInteger(hops) ? hops - 1 : 70) };
  for (const [name, value] of Object.entries(req.headers)) {
    if (!NOT_COPIED_TO_REQUEST.has(name.toLowerCase())) headers[name] = value;
  }

  let settled = false;
  const timer = setTimeout(() => {
    log.warn({ nextHop: options.nextHop, timeoutMs: options.timeoutMs ?? RELAY_TIMEOUT_MS }, 'no final response from the upstream; answering 408');
    finish(408, 'Request Timeout', {});
  }, options.timeoutMs ?? RELAY_TIMEOUT_MS);
  timer.unref();
  const finish = (status: number, reason: string, extra: Record<string, string>): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    answer(res, status, reason, extra, log);
  };

  const onSent = (sent: SentRequest): void => {
    sent.on('response', (response: UacResponse) => {
      if (response.status < 200) return;
      log.debug({ status: response.status }, 'relayed as a new request; final response');
      finish(response.status, response.reason, responseHeaders(response));
    });
  };
  const send = (uri: string, retryOwnUri: boolean): void => {
    try {
      srf.request(uri, { method: req.method, headers, proxy: options.nextHop }, (err, sent) => {
        if (!err && sent !== undefined) {
          onSent(sent);
        } else if (retryOwnUri && err?.message.includes('to myself')) {
          send(options.ownUriReplacement, false);
        } else {
          log.warn({ err: err ?? null, uri, nextHop: options.nextHop }, 'drachtio-server did not send the relayed request');
          finish(500, 'Server Internal Error', {});
        }
      });
    } catch (err) {
      log.error({ err, uri }, 'relaying the request through drachtio-server failed');
      finish(500, 'Server Internal Error', {});
    }
  };
  send(req.uri, true);
}

function responseHeaders(response: UacResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (!NOT_COPIED_TO_RESPONSE.has(name.toLowerCase())) out[name] = value;
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
