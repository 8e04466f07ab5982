import type { ContactList } from '../contact.js';
import type { NameAddr } from '../name-addr.js';

/**
 * The few parsed parts of a request that enforcement reads. The embedded proxy's `SipMessage`
 * has them as they are; the drachtio adapter builds them from a drachtio-srf request with the same
 * parsers, so both transports feed the policy identical facts.
 */
export interface RequestView {
  readonly method: string;
  readonly requestUri: string;
  readonly callId: string | null;
  readonly to: NameAddr | null;
  readonly from: NameAddr | null;
  readonly contacts: ContactList;
  readonly isDeregister: boolean;
  /** `username` of Authorization / Proxy-Authorization (never the response). */
  readonly digestUsername: string | null;
  readonly userAgent: string | null;
}
