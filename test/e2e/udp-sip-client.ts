import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/**
 * A minimal SIP client over UDP for end-to-end tests that need many quick REGISTERs (polling for a
 * reload) or bytes no SIP tool would send (garbage, a REGISTER without Call-ID). Real scenarios go
 * through SIPp; this only sends a request and waits for its final response.
 */

/** A final response, with header names lower-cased. */
export interface SipAnswer {
  readonly status: number;
  readonly text: string;
  header(name: string): string | undefined;
}

export interface RegisterRequest {
  readonly number: string;
  /** Contact host:port; default this client's own address. */
  readonly contact?: string;
  readonly expires?: number;
  readonly callId?: string;
  /** Leave the Call-ID header out (malformed on purpose, RFC 3261 §8.1.1). */
  readonly omitCallId?: boolean;
  /** Contact URI parameters, e.g. RFC 8599 `;pn-provider=apns;pn-prid=...`. */
  readonly uriParams?: string;
  /** Contact header parameters, e.g. `;+sip.instance="<urn:uuid:...>"` (RFC 5626). */
  readonly headerParams?: string;
}

/** RFC 3261 §17.1.1.2: T1, the first retransmission interval over UDP. */
const T1_MS = 500;

export function newToken(): string {
  return randomBytes(8).toString('hex');
}

/** A response's status and first header values; null when the text is not a SIP response. */
export function parseAnswer(text: string): SipAnswer | null {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  if (!m) return null;
  const head = text.split('\r\n\r\n', 1)[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), text, header: (name) => headers.get(name.toLowerCase()) };
}

export class UdpSipClient {
  readonly #socket: Socket;
  readonly #waiting = new Map<string, (answer: SipAnswer) => void>();
  readonly #strays: SipAnswer[] = [];
  readonly port: number;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.port = port;
    socket.on('message', (data) => {
      const answer = parseAnswer(data.toString('utf8'));
      if (answer === null || answer.status < 200) return;
      const waiter = this.#waiting.get(answer.header('call-id') ?? '');
      if (waiter) waiter(answer);
      else this.#strays.push(answer);
    });
  }

  static async open(): Promise<UdpSipClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpSipClient(socket, socket.address().port);
  }

  /** Final responses no `request` was waiting for (e.g. a 400 to a request without Call-ID). */
  get strays(): readonly SipAnswer[] {
    return this.#strays;
  }

  /** Sends bytes as they are; `target` is host:port. */
  send(target: string, data: string | Buffer): Promise<void> {
    const [host, port] = splitTarget(target);
    return new Promise((resolve, reject) => this.#socket.send(data, port, host, (err) => (err ? reject(err) : resolve())));
  }

  registerText(target: string, r: RegisterRequest): { text: string; callId: string } {
    const callId = r.callId ?? `${newToken()}@e2e`;
    const contact = r.contact ?? `127.0.0.1:${this.port}`;
    const lines = [
      `REGISTER sip:${target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};rport;branch=z9hG4bK${newToken()}`,
      `From: <sip:${r.number}@127.0.0.1>;tag=${newToken()}`,
      `To: <sip:${r.number}@127.0.0.1>`,
      ...(r.omitCallId ? [] : [`Call-ID: ${callId}`]),
      'CSeq: 1 REGISTER',
      `Contact: <sip:${r.number}@${contact}${r.uriParams ?? ''}>${r.headerParams ?? ''}`,
      `Expires: ${r.expires ?? 3600}`,
      'Max-Forwards: 70',
      'User-Agent: sipwarden-e2e',
      'Content-Length: 0',
    ];
    return { text: `${lines.join('\r\n')}\r\n\r\n`, callId };
  }

  /**
   * Sends a REGISTER and resolves with its final response, retransmitting every T1, or null when
   * none came within `timeoutMs` (a hang guard, not a speed assertion).
   */
  async register(target: string, r: RegisterRequest, timeoutMs = 3000): Promise<SipAnswer | null> {
    const { text, callId } = this.registerText(target, r);
    return this.request(target, text, callId, timeoutMs);
  }

  async request(target: string, text: string, callId: string, timeoutMs: number): Promise<SipAnswer | null> {
    let retransmit: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const answered = new Promise<SipAnswer | null>((resolve) => {
      this.#waiting.set(callId, resolve);
      deadline = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      await this.send(target, text);
      retransmit = setInterval(() => void this.send(target, text).catch(() => undefined), T1_MS);
      return await answered;
    } finally {
      clearInterval(retransmit);
      clearTimeout(deadline);
      this.#waiting.delete(callId);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

function splitTarget(target: string): [string, number] {
  const colon = target.lastIndexOf(':');
  return [target.slice(0, colon), Number(target.slice(colon + 1))];
}
