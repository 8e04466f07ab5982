import hep from 'hep-js';
import { describe, expect, it } from 'vitest';
import { encodeHep, HEP_LOG, HEP_SIP, ipBytes, type HepPacket } from '../../../src/sip/capture/hep-packet.js';

const BASE: HepPacket = {
  protocol: 17,
  source: { address: '192.0.2.10', port: 5062 },
  destination: { address: '127.0.0.1', port: 5060 },
  timeMs: 1_700_000_000_123.456,
  payloadType: HEP_SIP,
  captureId: 2001,
  payload: Buffer.from('REGISTER sip:127.0.0.1 SIP/2.0\r\n\r\n'),
};

/** Vendor-0 chunks of a packet by type, read with no library (hep-js 1.0.22 skips IPv6 chunks). */
function chunks(packet: Buffer): Map<number, Buffer> {
  expect(packet.toString('latin1', 0, 4)).toBe('HEP3');
  expect(packet.readUInt16BE(4)).toBe(packet.length);
  const out = new Map<number, Buffer>();
  for (let at = 6; at < packet.length; ) {
    expect(packet.readUInt16BE(at)).toBe(0);
    const length = packet.readUInt16BE(at + 4);
    expect(length).toBeGreaterThanOrEqual(6);
    out.set(packet.readUInt16BE(at + 2), packet.subarray(at + 6, at + length));
    at += length;
  }
  return out;
}

function encoded(packet: HepPacket): Buffer {
  const out = encodeHep(packet);
  if (out === null) throw new Error('not encoded');
  return out;
}

describe('HEP3 encoder, read back by hep-js (sipcapture)', () => {
  it('writes every field of a SIP packet over IPv4', () => {
    const decoded = hep.decapsulate(encoded({ ...BASE, authKey: Buffer.from('s3cret'), nodeName: Buffer.from('edge-1') }));
    expect(decoded).toBeTruthy();
    if (!decoded) return;
    expect(decoded.rcinfo).toMatchObject({
      protocolFamily: 2,
      protocol: 17,
      srcIp: '192.0.2.10',
      srcPort: 5062,
      dstIp: '127.0.0.1',
      dstPort: 5060,
      timeSeconds: 1_700_000_000,
      timeUseconds: 123_456,
      payloadType: 1,
      captureId: 2001,
      capturePass: 's3cret',
      hepNodeName: 'edge-1',
    });
    expect(decoded.payload).toBe(BASE.payload.toString());
  });

  it('a log chunk carries its correlation id, and a UTF-8 payload keeps its bytes', () => {
    const text = JSON.stringify({ event: 'decision', reason: 'license-expired', note: 'Straße 5 — 東京' });
    const packet = encoded({ ...BASE, payloadType: HEP_LOG, correlationId: Buffer.from('a84b4c76e66710@pc33'), payload: Buffer.from(text, 'utf8') });
    const decoded = hep.decapsulate(packet);
    if (!decoded) throw new Error('undecodable');
    expect(decoded.rcinfo.payloadType).toBe(100);
    expect(decoded.rcinfo.correlation_id).toBe('a84b4c76e66710@pc33');
    expect(decoded.rcinfo.capturePass).toBeUndefined();
    expect(JSON.parse(decoded.payload)).toEqual(JSON.parse(text));
  });

  it('writes IPv6 addresses in chunks 5 and 6 with family 10, and maps an IPv4 peer of an IPv6 end', () => {
    const v6 = chunks(encoded({ ...BASE, source: { address: '2001:db8::1', port: 5060 }, destination: { address: '::ffff:192.0.2.1', port: 5061 } }));
    expect(v6.get(1)?.readUInt8(0)).toBe(10);
    expect(v6.get(5)?.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(v6.get(6)?.toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(v6.has(3)).toBe(false);
    const mixed = chunks(encoded({ ...BASE, source: { address: '192.0.2.7', port: 1 }, destination: { address: 'fe80::1%eth0', port: 2 } }));
    expect(mixed.get(1)?.readUInt8(0)).toBe(10);
    expect(mixed.get(5)?.toString('hex')).toBe('00000000000000000000ffffc0000207');
    expect(mixed.get(6)?.toString('hex')).toBe('fe800000000000000000000000000001');
  });

  it('reads IP addresses as inet_pton does; a name is the unspecified address', () => {
    expect(ipBytes('10.1.2.3').toString('hex')).toBe('0a010203');
    expect(ipBytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipBytes('::1').toString('hex')).toBe(`${'0'.repeat(31)}1`);
    expect(ipBytes('1:2:3:4:5:6:7:8').toString('hex')).toBe('00010002000300040005000600070008');
    expect(ipBytes('fe80::a:b').toString('hex')).toBe('fe8000000000000000000000000a000b');
    expect(ipBytes('sip.example').toString('hex')).toBe('00000000');
  });

  it('refuses a packet over the 16-bit length rather than write a wrong one', () => {
    expect(encodeHep({ ...BASE, payload: Buffer.alloc(65_535 - 60) })).toBeNull();
    const largest = encodeHep({ ...BASE, payload: Buffer.alloc(65_535 - 200) });
    expect(largest?.readUInt16BE(4)).toBe(largest?.length);
  });
});
