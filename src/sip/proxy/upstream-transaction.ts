import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket as TcpSocket } from 'node:net';
import { BRANCH_PREFIX } from './branch.js';
import { normalizeAddress } from '../transports/flow.js';
import type { OwnVia } from './forward-request.js';
import { parseMessage } from '../message/parse-message.js';
import type { SipMessage } from '../message/sip-message.js';
import { StreamFramer } from '../transports/stream-framer.js';

/** Where the request goes: the upstream SIP server (config `sip.upstream`). */
export interface TransactionTarget {
  readonly transport: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

/** RFC 3261 §17.1.2.2 timers; T1 500 ms, T2 4 s and Timer F = 64·T1 unless given. */
export interface TransactionTimers {
  readonly t1Ms?: number;
  readonly t2Ms?: number;
  readonly timeoutMs?: number;
}

export type TransactionOutcome =
  | { readonly kind: 'response'; readonly response: SipMessage }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'transport-error'; readonly error: Error };

/**
 * One non-INVITE client transaction (RFC 3261 §17.1.2) to the upstream, from a socket of its own,
 * resolving with the final response. Over UDP the request is sent again after T1, the interval
 * doubling up to T2 (and T2 once a provisional response came), until a final response or Timer F;
 * over TCP it is sent once (§17.1.2.2: no retransmission on reliable transports). `build` makes
 * the request once the socket's local address, which goes into the Via, is known; responses are
 * matched by that Via's branch (§17.1.3). Never rejects; the socket is closed when it settles,
 * or at once when `signal` aborts (the sidecar stopping: a transport error "abandoned").
 */
export function runNonInviteTransaction(
  target: TransactionTarget,
  build: (via: OwnVia) => Buffer,
  timers: TransactionTimers = {},
  signal?: AbortSignal,
): Promise<TransactionOutcome> {
  const t1 = timers.t1Ms ?? 500;
  const t2 = timers.t2Ms ?? 4000;
  const branch = BRANCH_PREFIX + randomBytes(8).toString('hex');
  return new Promise((resolve) => {
    let settled = false;
    let retransmit: NodeJS.Timeout | undefined;
    const finish = (outcome: TransactionOutcome): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      clearTimeout(timerF);
      clearTimeout(retransmit);
      close();
      resolve(outcome);
    };
    const timerF = setTimeout(() => finish({ kind: 'timeout' }), timers.timeoutMs ?? 64 * t1);
    const abort = (): void => finish({ kind: 'transport-error', error: new Error('the transaction was abandoned') });
    const onResponse = (data: Buffer, stream: boolean): boolean => {
      const parsed = parseMessage(data, { stream });
      if (!parsed.ok || parsed.message.isRequest || parsed.message.topVia?.branch !== branch) return false;
      if (parsed.message.status >= 200) finish({ kind: 'response', response: parsed.message });
      return true;
    };
    const fail = (error: Error): void => finish({ kind: 'transport-error', error });

    let close: () => void;
    if (target.transport === 'udp') {
      const socket: UdpSocket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
      close = () => socket.close();
      socket.on('error', fail);
      let interval = t1;
      let request: Buffer | undefined;
      const send = (): void => {
        if (settled || request === undefined) return;
        socket.send(request);
        retransmit = setTimeout(send, interval);
        interval = Math.min(interval * 2, t2);
      };
      socket.on('message', (data) => {
        // A provisional response: the Proceeding state retransmits every T2 (§17.1.2.2).
        if (onResponse(data, false)) interval = t2;
      });
      socket.connect(target.port, target.host, () => {
        // Node emits 'connect' on a later tick: the transaction may have ended (and closed the
        // socket, whose address() then throws) in between, e.g. a serve stopping as it starts.
        if (settled) return;
        const local = socket.address();
        request = build({ transport: 'udp', host: local.address, port: local.port, branch });
        send();
      });
    } else {
      const socket: TcpSocket = connect({ host: target.host, port: target.port });
      close = () => socket.destroy();
      socket.on('error', fail);
      socket.on('close', () => fail(new Error('the upstream closed the connection before answering')));
      const framer = new StreamFramer();
      socket.on('data', (chunk: Buffer) => {
        const fits = framer.push(chunk, { message: (frame) => onResponse(frame, true), ping: () => undefined });
        if (!fits) fail(new Error('the upstream sent a message too large to frame'));
      });
      socket.on('connect', () => {
        socket.write(build({ transport: 'tcp', host: normalizeAddress(socket.localAddress ?? '127.0.0.1'), port: socket.localPort ?? 0, branch }));
      });
    }
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
