import type { Logger } from 'pino';
import { UNAVAILABLE, type Enforcer } from '../enforcement/enforcer.js';
import { FORWARD, isGated, type Verdict } from '../proxy/gate.js';
import type { ExtraHeader } from '../message/local-reply.js';
import type { DrachtioMiddleware, DrachtioRequest, DrachtioResponse, NextFunction } from './drachtio-types.js';
import { DrachtioRequestView, originOf } from './drachtio-request-view.js';

export interface SipwardenMiddlewareOptions {
  /**
   * Where faults of the adapter itself are logged (decisions are logged by the enforcer): the
   * application's logger, never one of our own writing to stdout.
   */
  readonly logger: Logger;
}

/**
 * drachtio-srf middleware that enforces the licences on REGISTER and initial INVITE (DESIGN.md
 * §2): an allowed request goes on with `next()`, a refused one is answered here with the
 * enforcer's reply (403 with `Warning: 399` and `X-Sipwarden-Reason`, or 503 with Retry-After when
 * enforcement fails closed). Every other request, and INVITEs inside a dialog, go on unchecked.
 *
 * ```ts
 * srf.use('register', sipwardenMiddleware(enforcer, { logger }));
 * srf.use('invite', sipwardenMiddleware(enforcer, { logger }));
 * ```
 *
 * Synchronous except for a new install's claim (the store answers first), and it never throws or
 * rejects into drachtio-srf, whose runner does not catch rejected async middleware. The enforcer turns faults inside a decision into its fail-open or fail-closed
 * verdict; this function additionally guards its own steps (reply, next) and logs what escaped.
 */
export function sipwardenMiddleware(enforcer: Enforcer, options: SipwardenMiddlewareOptions): DrachtioMiddleware {
  const logger = options.logger.child({ component: 'drachtio-middleware' });

  return function sipwarden(req: DrachtioRequest, res: DrachtioResponse, next: NextFunction): void {
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = verdictFor(enforcer, req);
    } catch (err) {
      // Enforcer.decide catches its own faults, so this is a bug here; pass the request on as
      // if unchecked rather than leave drachtio-server's transaction unanswered.
      logger.error({ err, callId: safeCallId(req), method: req.method }, 'drachtio middleware fault; request passed on unchecked');
      verdict = FORWARD;
    }
    if (verdict instanceof Promise) {
      // A new install's claim: the store answers first. The enforcer's Promise does not reject;
      // should it, nothing is granted (503, as for an install the store could not record).
      verdict.then(
        (v) => act(v, req, res, next, logger),
        (err: unknown) => {
          logger.error({ err, callId: safeCallId(req), method: req.method }, 'drachtio middleware fault while claiming');
          act(UNAVAILABLE, req, res, next, logger);
        },
      );
      return;
    }
    act(verdict, req, res, next, logger);
  };
}

function act(verdict: Verdict, req: DrachtioRequest, res: DrachtioResponse, next: NextFunction, logger: Logger): void {
  if (verdict.action === 'forward') {
    callNext(next, logger, req);
    return;
  }
  if (res.finalResponseSent) return;
  try {
    res.send(verdict.status, verdict.reason, { headers: headerObject(verdict.headers) });
  } catch (err) {
    logger.error({ err, callId: safeCallId(req), method: req.method, status: verdict.status }, 'sending the refusal failed');
  }
}

/** The gate's rule (`isGated`); a dialog is known here by its To tag, read only for an INVITE. */
function verdictFor(enforcer: Enforcer, req: DrachtioRequest): Verdict | Promise<Verdict> {
  const view = DrachtioRequestView.of(req);
  if (!isGated(req.method, req.method === 'INVITE' && inDialog(view))) return FORWARD;
  return enforcer.decide(view, originOf(req));
}

/**
 * A To parse that fails here fails again inside `decide`, which then applies its fail-open or
 * fail-closed setting; so a fault in this test must count as "not in a dialog".
 */
function inDialog(view: DrachtioRequestView): boolean {
  try {
    return view.toTag !== null;
  } catch {
    return false;
  }
}

function callNext(next: NextFunction, logger: Logger, req: DrachtioRequest): void {
  try {
    next();
  } catch (err) {
    // drachtio-srf runs each later layer inside its own try/catch, so this is not expected.
    logger.error({ err, callId: safeCallId(req), method: req.method }, 'a later drachtio middleware threw');
  }
}

/** drachtio-srf takes extra headers as an object; a repeated name becomes one comma-joined value. */
function headerObject(headers: readonly ExtraHeader[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name] = name in out ? `${out[name]}, ${value}` : value;
  return out;
}

function safeCallId(req: DrachtioRequest): string | null {
  try {
    return req.get('Call-ID') ?? null;
  } catch {
    return null;
  }
}
