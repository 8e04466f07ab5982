/**
 * What the transport adapters extract from a SIP request, and all the policy needs of it.
 * Building these facts (identities read as the SIP server reads them, RFC 8599 parameters,
 * +sip.instance) is the SIP layer's job. Every number in the facts is normalised
 * (`normalizeNumber`), as the snapshot's numbers are.
 */
export interface RegisterFacts {
  /** The AoR being registered: the user part of To, as the registrar binds it. Null when none. */
  readonly identity: string | null;
  /**
   * The other identities the request carries: the digest user of each of its credentials
   * (DESIGN.md §2). Each is decided on too; one that differs from `identity` where either is a
   * restricted number refuses the request. Absent or empty: none.
   */
  readonly credentials?: readonly string[];
  /** Names the identity-bearing field that could not be read unambiguously: the request is refused. */
  readonly unreadable?: string | null;
  /** Every binding unambiguously removed: `Contact: *` with `Expires: 0`, or each Contact expiring at 0 (RFC 3261 §10.2.2). */
  readonly isDeregister: boolean;
  /** RFC 8599 push parameters in Contact, or a configured User-Agent pattern matched. */
  readonly isMobileApp: boolean;
  /** +sip.instance (RFC 5626), else pn-prid, else the Contact URI. Null when not a mobile app. */
  readonly installId: string | null;
}

export interface InviteFacts {
  /** The caller: the user part of From. */
  readonly identity: string | null;
  /** The caller's credentials, as for REGISTER. */
  readonly credentials?: readonly string[];
  /** Names the identity-bearing field (caller's or callee's) that could not be read: refused. */
  readonly unreadable?: string | null;
  /** The callee: user part of the Request-URI, as the registrar looks it up. */
  readonly callee: string | null;
  /**
   * The caller is not this sidecar's to check (its domain is not a served one): only the callee
   * is decided on. Absent: false.
   */
  readonly skipCaller?: boolean;
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
