import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { WebSocket } from 'ws';
import { parseAnswer, type SipAnswer } from './udp-sip-client.js';

/**
 * SIP clients that send bytes exactly as written, over UDP, TCP, TLS or WebSocket (RFC 7118), for tests
 * whose requests no SIP tool would build (a lower-case method, a repeated digest username, a
 * malformed expires). Each request waits for its final response; nothing here checks the SIP it
 * is given.
 */

export type RawTransport = 'udp' | 'tcp' | 'ws' | 'tls';

/** A final response, header names lower-cased; `header` gives the first value. */
export type RawAnswer = SipAnswer;

/** RFC 3261 §17.1.1.2: T1. */
const T1_MS = 500;

export function token(): string {
  return randomBytes(6).toString('hex');
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'latin1').digest('hex');
}

/**
 * An RFC 2617 digest response without qop (what Kamailio's auth checks when its challenge offers
 * no qop): the server recomputes it from the username as written, so a test can build valid
 * credentials for any username the server will read.
 */
export function digestResponse(o: { username: string; realm: string; password: string; method: string; uri: string; nonce: string }): string {
  const ha1 = md5(`${o.username}:${o.realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  return md5(`${ha1}:${o.nonce}:${ha2}`);
}

/** Splits a byte stream into SIP messages by Content-Length (RFC 3261 §18.3). */
class StreamSplitter {
  #pending = '';
  push(chunk: string, each: (message: string) => void): void {
    this.#pending += chunk;
    for (;;) {
      const end = this.#pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(this.#pending.slice(0, end))?.[1] ?? '0');
      const total = end + 4 + length;
      if (this.#pending.length < total) return;
      each(this.#pending.slice(0, total));
      this.#pending = this.#pending.slice(total);
    }
  }
}

export class RawSipClient {
  readonly #waiting = new Map<string, (answer: RawAnswer) => void>();
  readonly #provisional = new Map<string, number[]>();
  readonly #send: (data: string) => void;
  readonly #close: () => Promise<void>;
  readonly transport: RawTransport;
  /** What this client writes into its Via (`SIP/2.0/<T> <sentBy>`) and Contact. */
  readonly viaTransport: string;
  readonly sentBy: string;
  /** TLS: the SHA-256 fingerprint of the certificate the server presented in the handshake. */
  certificate: string | null = null;

  private constructor(transport: RawTransport, sentBy: string, send: (data: string) => void, close: () => Promise<void>) {
    this.transport = transport;
    this.viaTransport = transport.toUpperCase();
    this.sentBy = sentBy;
    this.#send = send;
    this.#close = close;
  }

  /**
   * `target` is host:port for UDP/TCP/TLS, a ws:// URL for WebSocket. `tls`: how a TLS client
   * checks the server (the test CA, the name to expect); a plain node:tls client, as SIPp 3.6.1 in
   * Debian is built without TLS.
   */
  static async open(transport: RawTransport, target: string, tls: ConnectionOptions = {}): Promise<RawSipClient> {
    let client: RawSipClient | undefined;
    const deliver = (text: string): void => {
      if (client !== undefined) client.#received(text);
    };
    if (transport === 'udp') {
      const [host, port] = splitHostPort(target);
      const socket: UdpSocket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      socket.on('message', (data) => deliver(data.toString('latin1')));
      client = new RawSipClient(transport, `127.0.0.1:${socket.address().port}`, (data) => socket.send(Buffer.from(data, 'latin1'), port, host), () => new Promise((r) => socket.close(() => r())));
    } else if (transport === 'tcp' || transport === 'tls') {
      const [host, port] = splitHostPort(target);
      const socket: TcpSocket = transport === 'tcp' ? connect({ host, port }) : tlsConnect({ ...tls, host, port });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once(transport === 'tcp' ? 'connect' : 'secureConnect', () => resolve());
      });
      const splitter = new StreamSplitter();
      socket.on('data', (data) => splitter.push(data.toString('latin1'), deliver));
      socket.on('error', () => undefined);
      client = new RawSipClient(transport, `127.0.0.1:${socket.localPort ?? 0}`, (data) => socket.write(Buffer.from(data, 'latin1')), () => new Promise((r) => socket.end(() => r())));
      if (socket instanceof TLSSocket) client.certificate = socket.getPeerCertificate().fingerprint256;
    } else {
      const ws = new WebSocket(target, 'sip');
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => resolve());
      });
      ws.on('message', (data: Buffer) => deliver(data.toString('latin1')));
      ws.on('error', () => undefined);
      client = new RawSipClient(transport, `${token()}.invalid`, (data) => ws.send(Buffer.from(data, 'latin1')), () =>
        new Promise((r) => {
          ws.once('close', () => r());
          ws.close();
        }),
      );
    }
    return client;
  }

  #received(text: string): void {
    const answer = parseAnswer(text);
    if (answer === null) return;
    const callId = answer.header('call-id') ?? '';
    if (answer.status < 200) {
      this.#provisional.set(callId, [...(this.#provisional.get(callId) ?? []), answer.status]);
      return;
    }
    this.#waiting.get(callId)?.(answer);
  }

  /** The provisional statuses (1xx) received for a Call-ID, in order. */
  provisional(callId: string): readonly number[] {
    return this.#provisional.get(callId) ?? [];
  }

  /**
   * Sends `text` and resolves with the final response of its Call-ID, or null when none came
   * within `timeoutMs` (a hang guard, not a speed assertion). UDP retransmits every T1.
   */
  async request(text: string, callId: string, timeoutMs = 3000): Promise<RawAnswer | null> {
    let retransmit: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const answered = new Promise<RawAnswer | null>((resolve) => {
      this.#waiting.set(callId, resolve);
      deadline = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      this.#send(text);
      if (this.transport === 'udp') retransmit = setInterval(() => this.#send(text), T1_MS);
      return await answered;
    } finally {
      clearInterval(retransmit);
      clearTimeout(deadline);
      this.#waiting.delete(callId);
    }
  }

  /** Sends bytes without waiting (an ACK). */
  send(text: string): void {
    this.#send(text);
  }

  close(): Promise<void> {
    return this.#close();
  }
}

/** A request's text from its start line and header lines, with Content-Length: 0. */
export function sipRequest(startLine: string, headers: readonly string[]): string {
  return `${[startLine, ...headers, 'Content-Length: 0'].join('\r\n')}\r\n\r\n`;
}

/** A plain REGISTER of `number` from `client`, its Contact on the client's transport. */
export function registerFrom(client: RawSipClient, number: string): { text: string; callId: string } {
  const callId = `${token()}@raw-sip`;
  const text = sipRequest('REGISTER sip:127.0.0.1 SIP/2.0', [
    `Via: SIP/2.0/${client.viaTransport} ${client.sentBy};branch=z9hG4bK${token()};rport`,
    'Max-Forwards: 70',
    `From: <sip:${number}@127.0.0.1>;tag=${token()}`,
    `To: <sip:${number}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${number}@${client.sentBy};transport=${client.transport}>`,
    'Expires: 300',
  ]);
  return { text, callId };
}

/**
 * The ACK of a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's Request-URI, top Via,
 * From, Call-ID and CSeq number, the response's To.
 */
export function ackFor(invite: string, answer: RawAnswer): string {
  const lines = invite.split('\r\n');
  const pick = (name: string): string => lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)) ?? '';
  const requestUri = (lines[0] ?? '').split(' ')[1] ?? '';
  const seq = /^CSeq:\s*(\d+)/i.exec(pick('CSeq'))?.[1] ?? '1';
  return sipRequest(`ACK ${requestUri} SIP/2.0`, [pick('Via'), 'Max-Forwards: 70', pick('From'), `To: ${answer.header('to') ?? ''}`, pick('Call-ID'), `CSeq: ${seq} ACK`]);
}

/**
 * A phone on a UDP socket that answers every INVITE 480 (so each call ends at once) and keeps
 * what it received; OPTIONS and other requests get 200.
 */
export class CalleePhone {
  readonly invites: string[] = [];
  readonly #socket: UdpSocket;
  readonly port: number;

  private constructor(socket: UdpSocket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('message', (data, rinfo) => {
      const text = data.toString('latin1');
      const method = /^([A-Za-z]+) /.exec(text)?.[1];
      if (method === undefined || method.toUpperCase() === 'ACK') return;
      if (method.toUpperCase() === 'INVITE') this.invites.push(text);
      socket.send(Buffer.from(replyTo(text, method.toUpperCase() === 'INVITE' ? '480 Temporarily Unavailable' : '200 OK'), 'latin1'), rinfo.port, rinfo.address);
    });
  }

  static async open(): Promise<CalleePhone> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new CalleePhone(socket);
  }

  close(): Promise<void> {
    return new Promise((r) => this.#socket.close(() => r()));
  }
}

/** A response to `request`: its Vias, From, Call-ID and CSeq, its To with a tag. */
function replyTo(request: string, status: string): string {
  const head = request.split('\r\n\r\n', 1)[0] ?? '';
  const lines = head.split('\r\n').slice(1);
  const keep = lines.filter((l) => /^(via|v|from|f|call-id|i|cseq):/i.test(l));
  const to = lines.find((l) => /^(to|t):/i.test(l)) ?? 'To: <sip:unknown@invalid>';
  return `SIP/2.0 ${status}\r\n${[...keep, /;tag=/i.test(to) ? to : `${to};tag=${token()}`, 'Content-Length: 0'].join('\r\n')}\r\n\r\n`;
}

function splitHostPort(target: string): [string, number] {
  const colon = target.lastIndexOf(':');
  return [target.slice(0, colon), Number(target.slice(colon + 1))];
}
