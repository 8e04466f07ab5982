import type { Flow } from '../transports/flow.js';
import { encodeHep, HEP_LOG, HEP_SIP, type HepEndpoint } from './hep-packet.js';
import type { HepSender, HepSenderStats } from './hep-sender.js';

export interface CaptureIdentity {
  /** HEP capture agent id (Kamailio siptrace `hep_capture_id`). */
  readonly captureId: number;
  /** HEP authentication key (Kamailio siptrace `auth_key`), or null. */
  readonly authKey: string | null;
  /** HEP node name (chunk 0x0013), shown by Homer beside the capture id, or null. */
  readonly nodeName: string | null;
}

/** A transport as HEP's IP-protocol chunk names it; TLS and WebSocket as Kamailio's siptrace writes them. */
const IP_PROTOCOL: Readonly<Record<string, number>> = { udp: 17, tcp: 6, tls: 22, ws: 22, wss: 22 };
const OTHER = 22;

/**
 * SIP capture for Homer (as Kamailio's siptrace with `hep_mode_on`): every SIP message the proxy
 * receives and sends as a HEP3 packet of type SIP, and each policy decision as a HEP3 log chunk
 * (type 100, as `hlog()` sends) whose correlation id is the Call-ID, so Homer shows it with the
 * call. Nothing here waits or throws: a capture fault costs the packet, never the SIP message.
 */
export class SipCapture {
  readonly #sender: HepSender;
  readonly #captureId: number;
  readonly #authKey: Buffer | null;
  readonly #nodeName: Buffer | null;

  constructor(sender: HepSender, identity: CaptureIdentity) {
    this.#sender = sender;
    this.#captureId = identity.captureId;
    this.#authKey = identity.authKey === null ? null : Buffer.from(identity.authKey, 'utf8');
    this.#nodeName = identity.nodeName === null ? null : Buffer.from(identity.nodeName, 'utf8');
  }

  get stats(): Readonly<HepSenderStats> {
    return this.#sender.stats;
  }

  /** A message that came from `source` to our listener at `local`. */
  received(data: Buffer, source: Flow, local: HepEndpoint): void {
    this.#send(IP_PROTOCOL[source.transport] ?? OTHER, source, local, HEP_SIP, null, data);
  }

  /** A message our listener at `local` sent to `target`. */
  sent(data: Buffer, target: Flow, local: HepEndpoint): void {
    this.#send(IP_PROTOCOL[target.transport] ?? OTHER, local, target, HEP_SIP, null, data);
  }

  /**
   * A decision on a request from `source` (to our listener at `local`), as one JSON log line
   * correlated to its call by the Call-ID.
   */
  decision(callId: string | null, fields: Readonly<Record<string, unknown>>, source: Peer, local: HepEndpoint | null): void {
    let payload: Buffer;
    try {
      payload = Buffer.from(JSON.stringify({ event: 'decision', callId, ...fields }), 'utf8');
    } catch {
      this.#sender.send(null);
      return;
    }
    const correlation = callId === null || callId === '' ? null : Buffer.from(callId, 'latin1');
    this.#send(IP_PROTOCOL[source.transport] ?? OTHER, source, local ?? UNKNOWN, HEP_LOG, correlation, payload);
  }

  close(): Promise<void> {
    return this.#sender.close();
  }

  #send(protocol: number, source: HepEndpoint, destination: HepEndpoint, payloadType: number, correlationId: Buffer | null, payload: Buffer): void {
    let packet: Buffer | null = null;
    try {
      packet = encodeHep({
        protocol,
        source,
        destination,
        timeMs: performance.timeOrigin + performance.now(),
        payloadType,
        captureId: this.#captureId,
        authKey: this.#authKey,
        nodeName: this.#nodeName,
        correlationId,
        payload,
      });
    } catch {
      packet = null;
    }
    this.#sender.send(packet);
  }
}

/** A peer as the decision log names it (the enforcer's request origin). */
type Peer = { readonly transport: string; readonly address: string; readonly port: number };

const UNKNOWN: HepEndpoint = Object.freeze({ address: '0.0.0.0', port: 0 });
