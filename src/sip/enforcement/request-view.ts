import type { ContactList } from '../message/contact.js';
import type { NameAddr } from '../message/name-addr.js';

/**
 * The few parsed parts of a request that enforcement reads. The embedded proxy's `SipMessage`
 * has them as they are; the drachtio adapter builds them from a drachtio-srf request with the same
 * parsers, so both transports feed the policy identical facts.
 */
export interface RequestView {
  /** As the SIP server reads it: a known method in upper case whatever case was sent. */
  readonly method: string;
  readonly requestUri: string;
  readonly callId: string | null;
  /** The To and From name-addrs; null when absent, repeated or not readable as exactly one. */
  readonly to: NameAddr | null;
  readonly from: NameAddr | null;
  readonly contacts: ContactList;
  /** Every binding unambiguously removed (see `isDeregistration`). */
  readonly isDeregister: boolean;
  /**
   * The digest user (`$au`) of every Authorization and Proxy-Authorization credentials; null when
   * one of them is ambiguous. Never the response.
   */
  readonly digestUsers: readonly string[] | null;
  readonly userAgent: string | null;
}
