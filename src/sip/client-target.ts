import type { Flow } from './flow.js';
import { paramValue } from './params.js';
import { parseUri } from './uri.js';

/**
 * Where a request for the client of flow `flow` (named by a flow token) goes, given its
 * Request-URI (the client's Contact, RFC 3261 §12.2.1.1, §10.2.1).
 *
 * - The flow, while it is there: the only way to a WebSocket client or to one behind NAT
 *   (RFC 5626 §5.3).
 * - UDP: a client whose Contact is on the very address it sends from is not behind NAT and is
 *   reached at its Contact's port, as a proxy without flow tokens would (§16.6 step 6); this also
 *   serves a REGISTER sent from another port than the one the client listens on.
 * - TCP whose connection is gone (the client closed it, or the sidecar restarted): a client whose
 *   Contact is a TCP address on the same host is reached by a new connection to that Contact
 *   (§18.2.1), which is how its dialogs survive a restart of the sidecar.
 */
export function clientTarget(flow: Flow, requestUri: string, connected: (flow: Flow) => boolean): Flow {
  if (flow.transport === 'ws' || (flow.transport === 'tcp' && connected(flow))) return flow;
  const uri = parseUri(requestUri);
  if (uri === null || uri.scheme !== 'sip' || uri.host !== flow.address) return flow;
  const port = uri.port ?? 5060;
  const named = paramValue(uri.params, 'transport');
  const transport = typeof named === 'string' ? named.toLowerCase() : 'udp';
  if (port === flow.port || transport !== flow.transport) return flow;
  return { transport: flow.transport, address: flow.address, port };
}
