import type { TransportName } from './flow.js';
import { MAX_MESSAGE_SIZE } from '../message/parse-message.js';

/** The largest UDP payload over IPv4: 65,535 less the IP (20) and UDP (8) headers (RFC 791, RFC 768). */
export const MAX_UDP_PAYLOAD = 65_507;

/**
 * The largest message the proxy sends on a transport: a datagram over UDP; on streams what a SIP
 * peer reads as one message (ours refuses more, and so does Kamailio's 64 KB buffer). RFC 3261
 * §18.1.1 would move large requests to TCP, but the upstream's transport is the operator's choice.
 */
export function maxOutgoingSize(transport: TransportName): number {
  return transport === 'udp' ? MAX_UDP_PAYLOAD : MAX_MESSAGE_SIZE;
}
