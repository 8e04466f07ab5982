import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type PeerCertificate, type TLSSocket, type TlsOptions } from 'node:tls';
import { WebSocket } from 'ws';

/** One message a test peer received. */
export interface Received {
  readonly text: string;
  readonly address: string;
  readonly port: number;
}

/** How long a test waits for a message before failing (not a speed assertion: a hang guard). */
const WAIT_MS = 5000;

/** A queue of received messages that tests await one by one. */
class Inbox {
  readonly #queue: Received[] = [];
  readonly #waiters: Array<(r: Received) => void> = [];

  push(r: Received): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(r);
    else this.#queue.push(r);
  }

  next(what: string): Promise<Received> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`${what}: nothing received within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const done = (r: Received): void => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#waiters.push(done);
    });
  }

  get pending(): number {
    return this.#queue.length;
  }
}

/** The next message from `next` that is not a provisional (1xx) response. */
export async function nonProvisional(next: () => Promise<Received>): Promise<Received> {
  for (;;) {
    const r = await next();
    if (!/^SIP\/2\.0 1\d\d /.test(r.text)) return r;
  }
}

/** A UDP SIP peer on 127.0.0.1 (a client or the upstream). */
export class UdpPeer {
  readonly #socket: UdpSocket;
  readonly #inbox = new Inbox();
  readonly port: number;

  private constructor(socket: UdpSocket, port: number) {
    this.#socket = socket;
    this.port = port;
    socket.on('message', (data, rinfo) => this.#inbox.push({ text: data.toString('utf8'), address: rinfo.address, port: rinfo.port }));
  }

  static async open(name = 'udp peer'): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const peer = new UdpPeer(socket, socket.address().port);
    peer.name = name;
    return peer;
  }

  name = 'udp peer';

  send(data: string | Buffer, port: number): void {
    this.#socket.send(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, port, '127.0.0.1');
  }

  next(): Promise<Received> {
    return this.#inbox.next(this.name);
  }

  get pending(): number {
    return this.#inbox.pending;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Splits a TCP byte stream into SIP messages by Content-Length (test side, independent of the proxy's framer). */
function splitStream(buffer: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = buffer.replace(/^(\r\n)+/, '');
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const m = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(rest.slice(0, end));
    const length = end + 4 + Number(m?.[1] ?? 0);
    if (rest.length < length) break;
    messages.push(rest.slice(0, length));
    rest = rest.slice(length).replace(/^(\r\n)+/, '');
  }
  return { messages, rest };
}

/** A TCP SIP client connection. */
export class TcpClient {
  readonly #socket: Socket;
  readonly #inbox = new Inbox();
  readonly #raw = new Inbox();
  #buffer = '';
  /** Resolves when the connection has closed (from either side). */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#raw.push({ text: chunk.toString('utf8'), address: '', port: 0 });
      const { messages, rest } = splitStream(this.#buffer + chunk.toString('utf8'));
      this.#buffer = rest;
      for (const text of messages) this.#inbox.push({ text, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    });
    socket.on('error', () => undefined);
  }

  /** A TCP connection, or with `tls` a TLS one (RFC 3261 §26), resolved once the handshake is done. */
  static connect(port: number, tls?: ConnectionOptions): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket =
        tls === undefined
          ? connect({ host: '127.0.0.1', port }, () => resolve(new TcpClient(socket)))
          : tlsConnect({ host: '127.0.0.1', port, ...tls }, () => resolve(new TcpClient(socket)));
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  /** The certificate the server presented (TLS only). */
  peerCertificate(): PeerCertificate | null {
    const tls = this.#socket as Partial<TLSSocket>;
    return typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate() : null;
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  next(): Promise<Received> {
    return this.#inbox.next('tcp client');
  }

  /** The next chunk of bytes as it came off the socket. */
  nextChunk(): Promise<Received> {
    return this.#raw.next('tcp client (raw)');
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A TCP SIP server peer (an upstream over TCP): answers go back on the connection a request came on. */
export class TcpServerPeer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #inbox = new Inbox();
  readonly port: number;
  readonly #byPort = new Map<number, Socket>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** A TCP server, or with `tls` a TLS one (an upstream over TLS). */
  static async open(tls?: TlsOptions): Promise<TcpServerPeer> {
    const holder: { peer?: TcpServerPeer } = {};
    const accept = (socket: Socket): void => holder.peer?.accept(socket);
    const server: Server = tls === undefined ? createServer(accept) : createTlsServer(tls, accept);
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    holder.peer = new TcpServerPeer(server, typeof address === 'object' && address !== null ? address.port : 0);
    return holder.peer;
  }

  private accept(socket: Socket): void {
    this.#sockets.add(socket);
    this.#byPort.set(socket.remotePort ?? 0, socket);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = splitStream(buffer + chunk.toString('utf8'));
      buffer = rest;
      for (const text of messages) this.#inbox.push({ text, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Writes on the connection from remote `port`. */
  reply(port: number, text: string): void {
    this.#byPort.get(port)?.write(text);
  }

  next(): Promise<Received> {
    return this.#inbox.next('tcp server peer');
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A WebSocket SIP client (RFC 7118). */
export class WsClient {
  readonly #ws: WebSocket;
  readonly #inbox = new Inbox();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#inbox.push({ text: `${isBinary ? 'BINARY ' : ''}${data.toString('utf8')}`, address: '', port: 0 });
    });
  }

  /** `ws://`, or `wss://` when `tls` (the CA to trust) is given. */
  static connect(port: number, protocol: string | undefined = 'sip', tls?: ConnectionOptions): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://127.0.0.1:${port}`, protocol === undefined ? [] : [protocol], tls ?? {});
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  send(text: string): void {
    this.#ws.send(text);
  }

  next(): Promise<Received> {
    return this.#inbox.next('ws client');
  }

  close(): void {
    this.#ws.terminate();
  }
}
