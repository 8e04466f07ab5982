/**
 * What the transport adapters extract from a SIP request, and all the policy needs of it.
 * Building these facts (digest username, RFC 8599 parameters, +sip.instance) is the SIP layer's job.
 */
export interface RegisterFacts {
  /** The registering number: digest username, else the user part of To. Null when absent. */
  readonly identity: string | null;
  /** `Expires: 0` or `Contact: *` (RFC 3261 §10.2.2). */
  readonly isDeregister: boolean;
  /** RFC 8599 push parameters in Contact, or a configured User-Agent pattern matched. */
  readonly isMobileApp: boolean;
  /** +sip.instance (RFC 5626), else pn-prid, else the Contact URI. Null when not a mobile app. */
  readonly installId: string | null;
}

export interface InviteFacts {
  /** The caller: digest username, else the user part of From. */
  readonly identity: string | null;
  /** The callee: user part of the Request-URI. */
  readonly callee: string | null;
  readonly isMobileApp: boolean;
  readonly installId: string | null;
}

/** Operator options that shape the decisions (validated config, DESIGN.md §2). */
export interface PolicyOptions {
  /** Numbers that are not provisioned (door panels, trunks): pass, or refuse (strict mode). */
  readonly unknownNumbers: 'allow' | 'reject';
  /**
   * Outside the window, REGISTER is refused ("reject"); "allow-sip-devices" keeps plain SIP
   * devices registered (their calls stay blocked); the mobile app is always refused.
   */
  readonly registerOutsideWindow: 'reject' | 'allow-sip-devices';
  /** Refuse INVITEs whose callee belongs to a group whose window is closed. */
  readonly checkCalleeWindow: boolean;
}

export const DEFAULT_POLICY_OPTIONS: PolicyOptions = Object.freeze({
  unknownNumbers: 'allow',
  registerOutsideWindow: 'reject',
  checkCalleeWindow: true,
});
