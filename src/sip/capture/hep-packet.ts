import { isIPv4, isIPv6 } from 'node:net';

/**
 * HEP version 3 (the Homer Encapsulation Protocol, as Homer, Kamailio's siptrace and heplify speak
 * it): "HEP3", a 16-bit total length, then chunks of (vendor 16 bits, type 16 bits, length 16 bits
 * including these 6 bytes, value), all big-endian. Only vendor 0 (generic) chunks are written.
 */

/** Chunk type ids of vendor 0 (the HEP3 specification's generic chunk list). */
const CHUNK = {
  ipFamily: 0x0001,
  ipProtocol: 0x0002,
  ipv4Source: 0x0003,
  ipv4Destination: 0x0004,
  ipv6Source: 0x0005,
  ipv6Destination: 0x0006,
  sourcePort: 0x0007,
  destinationPort: 0x0008,
  seconds: 0x0009,
  microseconds: 0x000a,
  payloadType: 0x000b,
  captureId: 0x000c,
  authKey: 0x000e,
  payload: 0x000f,
  correlationId: 0x0011,
  nodeName: 0x0013,
} as const;

/** Payload types (chunk 0x000b): a SIP message, or a log line as Kamailio's `hlog()` sends it. */
export const HEP_SIP = 1;
export const HEP_LOG = 100;

/** Address families as HEP carries them: the socket API's AF_INET and AF_INET6 (Linux values). */
const AF_INET = 2;
const AF_INET6 = 10;

/** One end of a captured packet. */
export interface HepEndpoint {
  /** An IPv4 or IPv6 address; anything else (a host name) is written as the unspecified address. */
  readonly address: string;
  readonly port: number;
}

export interface HepPacket {
  /** IP protocol number: 17 UDP, 6 TCP, 22 for TLS and WebSocket (the value Kamailio's siptrace writes). */
  readonly protocol: number;
  readonly source: HepEndpoint;
  readonly destination: HepEndpoint;
  /** Capture time in ms since the epoch, with a fraction for microseconds. */
  readonly timeMs: number;
  readonly payloadType: number;
  readonly captureId: number;
  readonly authKey?: Buffer | null;
  readonly nodeName?: Buffer | null;
  /** Homer links a log chunk to its call by this (the Call-ID). */
  readonly correlationId?: Buffer | null;
  readonly payload: Buffer;
}

/** The largest HEP3 packet: its length field is 16 bits. */
export const MAX_HEP_PACKET = 0xffff;

const HEADER = 6;
const CHUNK_HEADER = 6;

/**
 * Encodes one packet; null when it would not fit the 16-bit length (a 64 KiB SIP message with its
 * chunks), which the caller counts as dropped. Mixed families (an IPv4 peer of an IPv6 listener)
 * are written as IPv6 with the IPv4-mapped address.
 */
export function encodeHep(packet: HepPacket): Buffer | null {
  let source = ipBytes(packet.source.address);
  let destination = ipBytes(packet.destination.address);
  if (source.length !== destination.length) {
    source = asIpv6(source);
    destination = asIpv6(destination);
  }
  const v6 = source.length === 16;
  const optional = [
    [CHUNK.nodeName, packet.nodeName],
    [CHUNK.authKey, packet.authKey],
    [CHUNK.correlationId, packet.correlationId],
  ] as const;
  let length = HEADER + 2 * (CHUNK_HEADER + 1) + 2 * (CHUNK_HEADER + source.length) + 2 * (CHUNK_HEADER + 2);
  length += 2 * (CHUNK_HEADER + 4) + (CHUNK_HEADER + 1) + (CHUNK_HEADER + 4) + CHUNK_HEADER + packet.payload.length;
  for (const [, value] of optional) if (value) length += CHUNK_HEADER + value.length;
  if (length > MAX_HEP_PACKET) return null;

  const out = Buffer.allocUnsafe(length);
  out.write('HEP3', 0, 'latin1');
  out.writeUInt16BE(length, 4);
  let at = HEADER;
  const chunk = (type: number, size: number): number => {
    out.writeUInt16BE(0, at);
    out.writeUInt16BE(type, at + 2);
    out.writeUInt16BE(CHUNK_HEADER + size, at + 4);
    const value = at + CHUNK_HEADER;
    at = value + size;
    return value;
  };
  out.writeUInt8(v6 ? AF_INET6 : AF_INET, chunk(CHUNK.ipFamily, 1));
  out.writeUInt8(packet.protocol, chunk(CHUNK.ipProtocol, 1));
  source.copy(out, chunk(v6 ? CHUNK.ipv6Source : CHUNK.ipv4Source, source.length));
  destination.copy(out, chunk(v6 ? CHUNK.ipv6Destination : CHUNK.ipv4Destination, destination.length));
  out.writeUInt16BE(packet.source.port, chunk(CHUNK.sourcePort, 2));
  out.writeUInt16BE(packet.destination.port, chunk(CHUNK.destinationPort, 2));
  const seconds = Math.floor(packet.timeMs / 1000);
  out.writeUInt32BE(seconds >>> 0, chunk(CHUNK.seconds, 4));
  out.writeUInt32BE(Math.min(999_999, Math.floor((packet.timeMs - seconds * 1000) * 1000)), chunk(CHUNK.microseconds, 4));
  out.writeUInt8(packet.payloadType, chunk(CHUNK.payloadType, 1));
  out.writeUInt32BE(packet.captureId >>> 0, chunk(CHUNK.captureId, 4));
  for (const [type, value] of optional) if (value) value.copy(out, chunk(type, value.length));
  packet.payload.copy(out, chunk(CHUNK.payload, packet.payload.length));
  return out;
}

const UNSPECIFIED_V4 = Buffer.alloc(4);

/** The bytes of an IP address (network order); the unspecified IPv4 address for anything else. */
export function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const zone = address.indexOf('%');
  const bare = zone < 0 ? address : address.slice(0, zone);
  if (!isIPv6(bare)) return UNSPECIFIED_V4;
  const out = Buffer.alloc(16);
  let text = bare;
  // A trailing dotted IPv4 part (::ffff:192.0.2.1) is two 16-bit groups.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  front.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  back.forEach((g, i) => out.writeUInt16BE(g, 16 - (back.length - i) * 2));
  return out;
}

function asIpv6(bytes: Buffer): Buffer {
  if (bytes.length === 16) return bytes;
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xffff, 10);
  bytes.copy(out, 12);
  return out;
}
