import type { ReasonCode } from './reason-code.js';

export interface ReasonEntry {
  /** Always 403 for policy: clients fail over on 503 (RFC 3261 §21.5.4, RFC 3263). */
  readonly sipStatus: 403;
  /** Human text for `Warning: 399 <host> "<text>"` (RFC 3261 §20.43) and for logs. */
  readonly text: string;
  /** Prometheus label value. */
  readonly metric: string;
}

/** The single table from reason code to SIP response, log text and metric label. */
export const REASONS = {
  'unknown-number': { sipStatus: 403, text: 'Number is not provisioned', metric: 'unknown_number' },
  'license-not-yet-valid': { sipStatus: 403, text: 'License is not yet valid', metric: 'license_not_yet_valid' },
  'license-expired': { sipStatus: 403, text: 'License has expired', metric: 'license_expired' },
  'virtual-numbers-exceeded': {
    sipStatus: 403,
    text: 'Virtual number licenses exceeded',
    metric: 'virtual_numbers_exceeded',
  },
  'no-mobile-app-license': { sipStatus: 403, text: 'No mobile application license', metric: 'no_mobile_app_license' },
  'personal-license-exceeded': {
    sipStatus: 403,
    text: 'Personal license exceeded',
    metric: 'personal_license_exceeded',
  },
  'callee-license-expired': {
    sipStatus: 403,
    text: 'License of the called number is not valid',
    metric: 'callee_license_expired',
  },
  'ambiguous-identity': {
    sipStatus: 403,
    text: 'Identity of the request is ambiguous',
    metric: 'ambiguous_identity',
  },
} as const satisfies Record<ReasonCode, ReasonEntry>;
