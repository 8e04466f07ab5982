import type { Flow } from '../transports/flow.js';
import { paramValue } from '../message/params.js';
import { parseUri } from '../message/uri.js';

/**
 * Where a request for the client of flow `flow` (named by a flow token) goes, given its
 * Request-URI (the client's Contact, RFC 3261 §12.2.1.1, §10.2.1).
 *
 * - The flow, while it is there: the only way to a WebSocket client or to one behind NAT
 *   (RFC 5626 §5.3).
 * - UDP: a client whose Contact is on the very address it sends from is not behind NAT and is
 *   reached at its Contact's port, as a proxy without flow tokens would (§16.6 step 6); this also
 *   serves a REGISTER sent from another port than the one the client listens on.
 * - A stream connection that is gone (the client reconnected, or the sidecar restarted): the
 *   connection the client's RFC 5626 instance registered on since (`movedTo`, see
 *   instance-flows.ts), else for TCP a new connection to a TCP Contact on the same host (§18.2.1).
 *   That is how its dialogs survive a restart of the sidecar.
 */
export function clientTarget(flow: Flow, requestUri: string, connected: (flow: Flow) => boolean, movedTo: Flow | null = null): Flow {
  if (flow.transport !== 'udp') {
    if (connected(flow)) return flow;
    if (movedTo !== null && connected(movedTo)) return movedTo;
    // Only TCP is dialled back: a WebSocket client has no server, and a TLS client no certificate
    // the sidecar could check (RFC 5626 §4.4: the client keeps its flow up).
    if (flow.transport !== 'tcp') return flow;
  }
  const uri = parseUri(requestUri);
  if (uri === null || uri.scheme !== 'sip' || uri.host !== flow.address) return flow;
  const port = uri.port ?? 5060;
  const named = paramValue(uri.params, 'transport');
  const transport = typeof named === 'string' ? named.toLowerCase() : 'udp';
  if (port === flow.port || transport !== flow.transport) return flow;
  return { transport: flow.transport, address: flow.address, port };
}
