import type { SipMessage } from '../message/sip-message.js';

/**
 * When the proxy adds its Path (RFC 3327) to a client's REGISTER, so that the registrar sends
 * calls for that contact back through the sidecar:
 * - `always`: every REGISTER. The registrar must store Path whatever the client supports
 *   (Kamailio: `use_path 1` with `path_mode 0` or `1`); a registrar in RFC 3327 §5.3 strict mode
 *   (Kamailio `path_mode 2`) answers `420 Bad Extension` to clients without `Supported: path`.
 * - `supported`: only when the client sent `Supported: path`; safe with every registrar, but
 *   calls to the other clients do not come back through the sidecar (TCP/WebSocket clients then
 *   cannot be called at all).
 * - `never`: no Path.
 */
export type PathMode = 'always' | 'supported' | 'never';

/** Whether this REGISTER from a client gets our Path. */
export function addsPath(mode: PathMode, request: SipMessage): boolean {
  if (mode === 'always') return true;
  return mode === 'supported' && supportsPath(request);
}

/** RFC 3327 §5.1: the UA lists the `path` option tag in Supported (compact form `k`). */
export function supportsPath(request: SipMessage): boolean {
  for (const line of request.header('supported')) {
    for (const tag of line.split(',')) if (tag.trim().toLowerCase() === 'path') return true;
  }
  return false;
}
