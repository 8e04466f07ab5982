import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { DrachtioRequest, DrachtioResponse } from '../../../src/sip/drachtio/drachtio-types.js';

/**
 * Real drachtio-srf Request/Response objects, made the way drachtio-srf makes them when
 * drachtio-server hands it a message: its own DrachtioAgent parses the wire message
 * (`_onMsg`: meta line + raw SIP), builds `Request`/`Response`, and "punts them up the
 * middleware". Only the wire is replaced: drachtio-server is not in any package registry, so the
 * agent's WireProtocol is swapped for a recorder of what would have been written to it. The
 * socket is a never-connected `net.Socket` (the agent keys its state by socket instance).
 */

const require = createRequire(import.meta.url);

interface AgentInternals {
  wp: { send(socket: Socket, msg: string): string };
  _initServer(socket: Socket): unknown;
  _onMsg(socket: Socket, msg: string): void;
}
type Handler = (req: DrachtioRequest, res: DrachtioResponse) => void;
type AgentConstructor = new (handler: Handler) => AgentInternals;

export interface SipMessageLike {
  readonly status?: number;
  readonly reason?: string;
  readonly method?: string;
  readonly uri?: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}
type SipMessageConstructor = new (raw: string) => SipMessageLike;

export interface SrfLike {
  use(method: string, ...handlers: ((req: DrachtioRequest, res: DrachtioResponse, next: () => void) => void)[]): void;
  readonly app: Handler;
}
type SrfConstructor = (new () => SrfLike) & { readonly SipMessage: SipMessageConstructor };

const DrachtioAgent = require('drachtio-srf/lib/drachtio-agent.js') as AgentConstructor;
export const Srf = require('drachtio-srf') as SrfConstructor;

export interface Meta {
  readonly protocol?: string;
  readonly address?: string;
  readonly port?: number;
}

/** What the agent wrote towards drachtio-server for a response: the leader line and the SIP text. */
export interface SentResponse {
  /** `sip|<transaction id>|<dialog id>` */
  readonly leader: string;
  readonly raw: string;
  readonly message: SipMessageLike;
}

let seq = 0;

/** One agent as drachtio-srf has per drachtio-server connection, delivering to `handler`. */
export class InProcessAgent {
  readonly sent: SentResponse[] = [];
  readonly #agent: AgentInternals;
  readonly #socket = new Socket();

  constructor(handler: Handler) {
    this.#agent = new DrachtioAgent(handler);
    this.#agent.wp = {
      send: (_socket, msg) => {
        const crlf = msg.indexOf('\r\n');
        const raw = msg.slice(crlf + 2);
        this.sent.push({ leader: msg.slice(0, crlf), raw, message: new Srf.SipMessage(raw) });
        return `msg-${++seq}`;
      },
    };
    this.#agent._initServer(this.#socket);
  }

  /** Delivers a request as drachtio-server would (`<id>|sip|network|<len>|<proto>|<addr>|<port>|<time>|<txn>|<dialog>`). */
  deliver(raw: string, meta: Meta = {}): void {
    seq++;
    const leader = [
      `srv-${seq}`,
      'sip',
      'network',
      String(Buffer.byteLength(raw)),
      meta.protocol ?? 'udp',
      meta.address ?? '127.0.0.1',
      String(meta.port ?? 5099),
      '08:00:00.000000',
      `txn-${seq}`,
      '',
    ].join('|');
    this.#agent._onMsg(this.#socket, `${leader}\r\n${raw}`);
  }
}

/** Builds the drachtio-srf Request for a raw message, as the agent does, and returns it. */
export function drachtioRequest(raw: string, meta: Meta = {}): DrachtioRequest {
  let captured: DrachtioRequest | undefined;
  new InProcessAgent((req) => (captured = req)).deliver(raw, meta);
  if (captured === undefined) throw new Error('drachtio-srf did not deliver the request');
  return captured;
}
