import type { ReasonCode } from './reason-code.js';

/** Why a request was allowed; logged at debug and shown by `sipwarden check`. */
export type AllowBasis =
  | 'deregister'
  | 'unprovisioned'
  | 'unrestricted'
  | 'licensed'
  | 'install-licensed'
  | 'install-new'
  | 'window-closed-device-kept'
  | 'callee-only';

/**
 * The figures behind a decision, for logs and for `check` to explain it in words. `number`,
 * `rootId` and `group` are always the registering or calling number and its project; `callee` and
 * `calleeGroup` the called number and its project. Window bounds are those of the project the
 * reason is about (the callee's for `callee-license-expired`).
 */
export interface DecisionDetails {
  readonly number?: string;
  readonly callee?: string;
  readonly rootId?: number;
  readonly group?: string;
  readonly calleeGroup?: string;
  readonly limit?: number;
  readonly used?: number;
  /** 0-based position of the number or install among its tree's or user's licenses. */
  readonly rank?: number;
  readonly validFrom?: number | null;
  readonly validUntil?: number | null;
  readonly scope?: 'group' | 'user';
  /** Why the request's identity is ambiguous (`ambiguous-identity`), in words. */
  readonly problem?: string;
}

export interface Allow {
  readonly kind: 'allow';
  readonly basis: AllowBasis;
  /**
   * A mobile-app install not yet holding a license: the store must take one in a transaction
   * that re-checks the limits, and the SIP reply follows the store's answer (DESIGN.md §3).
   */
  readonly claimInstall: boolean;
  readonly details: DecisionDetails;
}

export interface Deny {
  readonly kind: 'deny';
  readonly reason: ReasonCode;
  readonly details: DecisionDetails;
}

export type Decision = Allow | Deny;
