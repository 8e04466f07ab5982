import { existsSync, readFileSync } from 'node:fs';

/** TCP_LISTEN in /proc/net/tcp's `st` column (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';
const LOOPBACK_HEX = '0100007F';

/**
 * Whether some process has 127.0.0.1:`port` bound (UDP) or listening (TCP),
 * read from /proc/net/{udp,tcp}. Lets the harness wait for a SIPp UAS to be
 * ready without sending it a stray request that would count as a failed call.
 * Undefined where /proc is not available.
 */
export function isBoundOnLoopback(port: number, protocol: 'udp' | 'tcp'): boolean | undefined {
  const table = `/proc/net/${protocol}`;
  if (!existsSync(table)) return undefined;
  const wanted = `${LOOPBACK_HEX}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync(table, 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const columns = line.trim().split(/\s+/);
      if (columns[1] !== wanted) return false;
      return protocol === 'udp' || columns[3] === TCP_LISTEN;
    });
}
