import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Admission, ConnectionAdmission, StreamLimits } from './connection-limits.js';
import type { ConnectionStats } from './connection-stats.js';
import { normalizeAddress } from './flow.js';

const EVERY_MS = 10_000;

/**
 * Counts refused connections and logs them at most once per 10 s with the counts since the last
 * line, so that a connection flood cannot become a log flood.
 */
export function admissionRefusals(
  log: Logger,
  transport: string,
  limits: Pick<StreamLimits, 'maxConnections' | 'maxConnectionsPerSource'>,
  stats: ConnectionStats,
): (why: Exclude<Admission, 'ok'>, address: string) => void {
  let last = 0;
  let total = 0;
  let perSource = 0;
  return (why, address) => {
    if (why === 'total') {
      stats.refusedTotal++;
      total++;
    } else {
      stats.refusedPerSource++;
      perSource++;
    }
    const now = Date.now();
    if (now - last < EVERY_MS) return;
    log.warn(
      { transport, refusedTotal: total, refusedPerSource: perSource, lastSource: address, ...limits },
      'connection limit reached; new connections refused',
    );
    last = now;
    total = 0;
    perSource = 0;
  };
}

/**
 * Admits a connection a peer opened, or closes it at once (counted and logged by `refused`):
 * the peer's address when admitted, whose place is given back when the connection closes.
 */
export function admitSocket(
  socket: Socket,
  admission: ConnectionAdmission,
  refused: (why: Exclude<Admission, 'ok'>, address: string) => void,
): string | null {
  const remote = socket.remoteAddress;
  if (remote === undefined) {
    socket.destroy();
    return null;
  }
  const address = normalizeAddress(remote);
  const admitted = admission.admit(address);
  if (admitted !== 'ok') {
    refused(admitted, address);
    socket.destroy();
    return null;
  }
  socket.once('close', () => admission.release(address));
  return address;
}
