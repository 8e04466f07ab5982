import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * The client side of drachtio-server's TCP admin protocol, just enough to drive drachtio-srf's
 * real client code (its agent and wire protocol) from a test: frames are `<byte length>#<id>|...`
 * (drachtio-srf `lib/wire-protocol.js`), commands are `authenticate`, `route`, `proxy` and `sip`
 * (`lib/drachtio-agent.js`). drachtio-server itself is not in any package registry these machines
 * reach; the end-to-end suite uses the real binary where one is installed.
 */

export interface ClientCommand {
  /** Index of the TCP connection it came on (0 = first). */
  readonly connection: number;
  readonly id: string;
  /** `authenticate`, `route`, `proxy`, `sip`, ... */
  readonly verb: string;
  /** The `|`-separated fields after the verb on the first line. */
  readonly args: readonly string[];
  /** What follows the first CRLF (a SIP message), or ''. */
  readonly body: string;
}

export interface FakeServerOptions {
  readonly secret: string;
  /** Default: any free port. */
  readonly port?: number;
}

export class FakeDrachtioServer {
  readonly commands: ClientCommand[] = [];
  readonly #sockets: Socket[] = [];
  readonly #open = new Set<Socket>();
  readonly #listeners = new Set<() => void>();
  #accepted = 0;

  private constructor(
    private readonly server: Server,
    private readonly secret: string,
    readonly port: number,
  ) {}

  static async start(options: FakeServerOptions): Promise<FakeDrachtioServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('fake drachtio-server has no port');
    const fake = new FakeDrachtioServer(server, options.secret, address.port);
    server.on('connection', (socket) => fake.#accept(socket));
    return fake;
  }

  /** TCP connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** TCP connections still open. */
  get open(): number {
    return this.#open.size;
  }

  /** Resolves when `predicate` holds, checked after every event; rejects after `ms` with `what`. */
  until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake drachtio-server: still waiting for ${what}; commands: ${this.commands.map((c) => c.verb).join(',')}`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
    });
  }

  /** The next command matching `predicate` (or one already received). */
  async command(predicate: (c: ClientCommand) => boolean, what: string, ms?: number): Promise<ClientCommand> {
    await this.until(() => this.commands.some(predicate), what, ms);
    const found = this.commands.find(predicate);
    if (found === undefined) throw new Error(`fake drachtio-server: lost ${what}`);
    return found;
  }

  /** Sends a SIP request to the client on its newest connection, as drachtio-server does when one arrives. */
  deliver(raw: string, transactionId: string): void {
    const socket = this.#sockets.at(-1);
    if (socket === undefined) throw new Error('fake drachtio-server: no client connected');
    const leader = ['sip', 'network', String(Buffer.byteLength(raw)), 'udp', '127.0.0.1', '5099', '08:00:00.000000', transactionId, ''].join('|');
    this.#send(socket, `${leader}\r\n${raw}`);
  }

  /** Drops every client connection, as a drachtio-server restart would. */
  dropConnections(): void {
    for (const socket of this.#open) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const connection = this.#accepted++;
    this.#sockets.push(socket);
    this.#open.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash <= 0) return;
        const length = Number(buffer.toString('utf8', 0, hash));
        if (buffer.length < hash + 1 + length) return;
        const frame = buffer.toString('utf8', hash + 1, hash + 1 + length);
        buffer = buffer.subarray(hash + 1 + length);
        this.#onFrame(socket, connection, frame);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#open.delete(socket);
      this.#notify();
    });
    this.#notify();
  }

  #onFrame(socket: Socket, connection: number, frame: string): void {
    const crlf = frame.indexOf('\r\n');
    const first = crlf < 0 ? frame : frame.slice(0, crlf);
    const [id = '', verb = '', ...args] = first.split('|');
    this.commands.push({ connection, id, verb, args, body: crlf < 0 ? '' : frame.slice(crlf + 2) });
    if (verb === 'authenticate') {
      const ok = args[0] === this.secret;
      this.#send(socket, ok ? `response|${id}|OK|udp/127.0.0.1:5060|v0.9.3-fake` : `response|${id}|NOK|incorrect secret`);
    } else if (verb === 'proxy') {
      // drachtio-srf resolves proxyRequest on `done` (lib/request.js, proxy).
      this.#send(socket, `response|${id}|OK|done`);
    }
    this.#notify();
  }

  #send(socket: Socket, payload: string): void {
    const message = `${randomUUID()}|${payload}`;
    socket.write(`${Buffer.byteLength(message)}#${message}`);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
