/**
 * The one set of refusal reasons, shared by SIP responses, logs, metrics and `sipwarden check`
 * (DESIGN.md §2). The string values are the wire form of `X-Sipwarden-Reason`.
 */
export const REASON_CODES = [
  'unknown-number',
  'license-not-yet-valid',
  'license-expired',
  'virtual-numbers-exceeded',
  'no-mobile-app-license',
  'personal-license-exceeded',
  'callee-license-expired',
  'ambiguous-identity',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export function isReasonCode(value: string): value is ReasonCode {
  return (REASON_CODES as readonly string[]).includes(value);
}
