import { createSocket, type Socket } from 'node:dgram';
import hep, { type HepDecoded } from 'hep-js';

/**
 * A HEP collector on a real UDP socket (what Homer's heplify-server is to the sidecar), decoding
 * every packet with hep-js, sipcapture's own HEP3 library, so that the encoder is checked by an
 * independent reader.
 */
export class HepCollector {
  readonly packets: HepDecoded[] = [];
  /** Datagrams hep-js could not decode. */
  readonly undecodable: Buffer[] = [];
  readonly #socket: Socket;
  readonly port: number;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('message', (data) => {
      const decoded = hep.decapsulate(data);
      if (decoded) this.packets.push(decoded);
      else this.undecodable.push(data);
    });
  }

  static async open(host = '127.0.0.1'): Promise<HepCollector> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new HepCollector(socket);
  }

  /** Waits until `match` finds a packet (a hang guard of `timeoutMs`, not a speed assertion). */
  async waitFor(match: (p: HepDecoded) => boolean, what: string, timeoutMs = 5000): Promise<HepDecoded> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.packets.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`HEP collector: no ${what} within ${timeoutMs} ms; got ${this.packets.length} packets`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
