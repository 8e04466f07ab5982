import type { ReasonCode } from '../../policy/reason-code.js';
import { REASONS } from '../../policy/reason-table.js';
import type { Reply } from '../proxy/gate.js';

/** The header carrying the machine-readable refusal reason (DESIGN.md §2). */
export const REASON_HEADER = 'X-Sipwarden-Reason';

/**
 * A policy refusal: `403 Forbidden` (never 503 for policy: clients fail over on 503, RFC 3261
 * §21.5.4), `Warning: 399 <host> "<text>"` (RFC 3261 §20.43, code 399 = miscellaneous) and the
 * reason code. Built once per (code, host) since the texts are constant.
 */
export function refusalFor(code: ReasonCode, warnAgent: string): Reply {
  const entry = REASONS[code];
  return Object.freeze({
    action: 'reply',
    status: entry.sipStatus,
    reason: 'Forbidden',
    headers: Object.freeze([
      Object.freeze(['Warning', `399 ${warnAgent} "${entry.text}"`] as const),
      Object.freeze([REASON_HEADER, code] as const),
    ]),
  });
}

/** One prebuilt refusal per reason code. */
export function refusalTable(warnAgent: string): Readonly<Record<ReasonCode, Reply>> {
  const table = {} as Record<ReasonCode, Reply>;
  for (const code of Object.keys(REASONS) as ReasonCode[]) table[code] = refusalFor(code, warnAgent);
  return Object.freeze(table);
}
