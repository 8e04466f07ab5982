import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Measures how long datagrams wait in a receive queue before the proxy reads them. */
export interface QueueProbe {
  /** Sends one probe into the queue (called on a timer). */
  send(): void;
  /**
   * The wait at the head of the queue now, in ms: the longest wait of the probes read since the
   * last call, or the age of the oldest probe not read yet when that is longer.
   */
  take(): number;
  close(): Promise<void>;
}

const WILDCARD_TARGET: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };
/** 8 bytes of key, 8 of send time. */
const PROBE_LENGTH = 16;
/** Probes older than this are taken as dropped by a full queue (2 s at one per 20 ms). */
const MAX_OUTSTANDING = 100;

/**
 * A probe of a UDP listener's receive queue: small datagrams sent to the listener from a socket of
 * our own on a timer, each timed from its send until the listener's message handler reads it.
 * Each waits behind every datagram queued before it, in the kernel and in the event loop, so its
 * wait is what the requests read with it have waited — CoDel's sojourn time (RFC 8289 §3), the
 * figure that decides whether clients retransmit (T1 = 500 ms). Probes go one after another, so
 * the measure follows the queue however deep it is; loopback keeps their order, so when one is
 * read, those sent before it and not read were dropped by a full queue.
 */
export class UdpQueueProbe implements QueueProbe {
  readonly #socket: Socket;
  readonly #target: { readonly host: string; readonly port: number };
  readonly #port: number;
  readonly #key = randomBytes(8);
  /** Send times of the probes not read yet, oldest first. */
  readonly #outstanding: number[] = [];
  #longest = 0;

  private constructor(socket: Socket, target: { host: string; port: number }) {
    this.#socket = socket;
    this.#target = target;
    this.#port = socket.address().port;
    socket.on('error', () => undefined);
  }

  /** A probe of the listener bound to `host:port`, sent from the same host (loopback for a wildcard). */
  static async open(host: string, port: number): Promise<UdpQueueProbe> {
    const from = WILDCARD_TARGET[host] ?? host;
    const socket = createSocket(isIPv6(from) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, from, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpQueueProbe(socket, { host: from, port });
  }

  send(): void {
    const now = performance.now();
    const payload = Buffer.allocUnsafe(PROBE_LENGTH);
    this.#key.copy(payload, 0);
    payload.writeDoubleLE(now, 8);
    if (this.#outstanding.length >= MAX_OUTSTANDING) this.#outstanding.shift();
    this.#outstanding.push(now);
    this.#socket.send(payload, this.#target.port, this.#target.host);
  }

  take(): number {
    const oldest = this.#outstanding[0];
    const age = oldest === undefined ? 0 : performance.now() - oldest;
    const wait = Math.max(this.#longest, age);
    this.#longest = 0;
    return wait;
  }

  /**
   * Called by the listener for every datagram, first: true (and the probe timed) when it is ours.
   * One integer comparison for every other datagram.
   */
  claim(data: Buffer, rinfo: RemoteInfo): boolean {
    if (rinfo.port !== this.#port || data.length !== PROBE_LENGTH || rinfo.address !== this.#target.host) return false;
    if (data.compare(this.#key, 0, 8, 0, 8) !== 0) return true;
    const sentAt = data.readDoubleLE(8);
    const wait = performance.now() - sentAt;
    if (wait > this.#longest) this.#longest = wait;
    const outstanding = this.#outstanding;
    let read = 0;
    while (read < outstanding.length && (outstanding[read] as number) <= sentAt) read++;
    outstanding.splice(0, read);
    return true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
