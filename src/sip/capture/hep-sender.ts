import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { pino, type Logger } from 'pino';

export interface HepSenderOptions {
  readonly host: string;
  readonly port: number;
  /**
   * Packets handed to the socket and not yet sent. When the kernel's buffer is full, libuv keeps
   * the sends queued in memory: past this many the capture drops packets rather than hold more.
   */
  readonly maxInFlight?: number;
  readonly logger?: Logger;
}

/** What the capture did with its packets. */
export interface HepSenderStats {
  sent: number;
  /** Not sent: too many already waiting for the socket, or too large for HEP. */
  dropped: number;
  /** Failed at the socket: a send, or the collector's ICMP port unreachable (one per report, not per packet). */
  failed: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 1024;
const WARN_EVERY_MS = 10_000;

/**
 * HEP packets to one collector over UDP (Homer's usual transport, port 9060), fire and forget:
 * `send` never waits and never throws, so capture cannot hold up the SIP path. The socket is
 * connected to the collector, so its address is resolved once, at start.
 */
export class HepSender {
  readonly stats: HepSenderStats = { sent: 0, dropped: 0, failed: 0 };
  readonly #socket: Socket;
  readonly #max: number;
  readonly #log: Logger;
  readonly #done = (err: Error | null): void => {
    this.#inFlight--;
    if (err === null) this.stats.sent++;
    else this.#failed(err);
  };
  /** Counts a failure and warns at most once per 10 s, so a dead collector cannot flood the log. */
  readonly #failed = (err: Error): void => {
    this.stats.failed++;
    const now = Date.now();
    if (now - this.#warned < WARN_EVERY_MS) return;
    this.#warned = now;
    this.#log.warn({ err, failed: this.stats.failed, dropped: this.stats.dropped }, 'HEP capture packets not delivered to the collector');
  };
  #inFlight = 0;
  #warned = 0;
  #closed = false;

  private constructor(socket: Socket, options: HepSenderOptions) {
    this.#socket = socket;
    this.#max = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#log = options.logger ?? pino({ enabled: false });
    // A connected UDP socket reports the collector's ICMP port unreachable here (ECONNREFUSED).
    socket.on('error', this.#failed);
  }

  /** Resolves the collector and connects a UDP socket to it; rejects when that fails. */
  static async open(options: HepSenderOptions): Promise<HepSender> {
    const { address, family } = await lookup(options.host);
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(options.port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new HepSender(socket, options);
  }

  /** Queues one packet; false (and counted) when it is dropped. */
  send(packet: Buffer | null): boolean {
    if (packet === null || this.#closed || this.#inFlight >= this.#max) {
      this.stats.dropped++;
      return false;
    }
    this.#inFlight++;
    try {
      this.#socket.send(packet, this.#done);
    } catch (err) {
      this.#done(err as Error);
      return false;
    }
    return true;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
