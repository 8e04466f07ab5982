import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/sip/transports/flow.js';
import { FORWARD } from '../../src/sip/proxy/gate.js';
import { LocalAddresses } from '../../src/sip/proxy/local-addresses.js';
import { parseMessage } from '../../src/sip/message/parse-message.js';
import { Resolver } from '../../src/sip/proxy/resolver.js';
import { createProxy } from '../../src/sip/proxy/stateless-proxy.js';
import { StreamFramer } from '../../src/sip/transports/stream-framer.js';
import { invite, register } from './messages.js';

const ours = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsw0123456789abcdef';
const seeds = [
  register({ callId: 'f1', branch: 'z9hG4bK-f1' }, ['Authorization: Digest username="1001", realm="r", nonce="n", uri="sip:r", response="abc"']),
  invite({ callId: 'f2', branch: 'z9hG4bK-f2' }, ['Route: <sip:127.0.0.1:5060;lr>, <sip:192.0.2.7;lr>']),
  invite({ callId: 'f3', branch: 'z9hG4bK-f3', toTag: 't' }, ['Route: <sip:tok.en@127.0.0.1:5060;transport=udp;lr>'], 'BYE'),
  `SIP/2.0 200 OK\r\nVia: ${ours}\r\nVia: SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK-x;received=10.0.0.5;rport=5099\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: f4\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
  register({ callId: 'f5', branch: 'z9hG4bK-f5' }).replace('Contact: <sip:1001@10.0.0.5:5099>;expires=600', 'm: <sip:1001@h;pn-provider=fcm;pn-prid=x>;+sip.instance="<urn:uuid:1>", *'),
];

const snippets = ['\r\n', '\n', '\r\n ', ':', ',', ';', '"', '\\', '<', '>', ' ', '=', '@', '[', ']', 'Via: SIP/2.0/TCP x', 'Content-Length: 5', 'l: 99999999999', 'Max-Forwards: 0', 'Route: <sip:127.0.0.1;lr>', 'CSeq: 1', 'To: <sip:x@y>;tag=sw', '\u0000', '\u00ff'];

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'truncate'; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...snippets) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(seed: string, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(seed, 'utf8');
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : m.at % buf.length;
    if (m.kind === 'flip') {
      buf = Buffer.from(buf);
      if (buf.length > 0) buf[at] = m.byte;
    } else if (m.kind === 'delete') {
      buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
    } else if (m.kind === 'insert') {
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text, 'latin1'), buf.subarray(at)]);
    } else {
      buf = buf.subarray(0, at);
    }
  }
  return buf;
}

const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([s, ms]) => mutate(s, ms));

/** Resolves IP literals only, so that mutated host names never reach the system resolver. */
class IpOnlyResolver extends Resolver {
  override resolve(host: string): string | Promise<string> {
    return isIP(host) !== 0 ? host : Promise.reject(new Error(`not resolving ${host} in tests`));
  }
}

/** The core behind an in-memory transport seam: every message it would send is kept for checking. */
function proxyUnderTest() {
  const sent: Buffer[] = [];
  const proxy = createProxy({
    io: { send: (_target, data) => (sent.push(data), true) },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: 5060 }],
    localAddresses: new LocalAddresses([{ host: '127.0.0.1', port: 5060 }]),
    upstream: { transport: 'udp', address: '127.0.0.1', port: 5080 },
    gate: (req) => (req.callId === 'f1' ? { action: 'reply', status: 403, reason: 'Forbidden', headers: [] } : FORWARD),
    resolver: new IpOnlyResolver(),
  });
  return { proxy, sent };
}

const client: Flow = { transport: 'udp', address: '127.0.0.1', port: 5099 };

describe('robustness against arbitrary and mutated input', () => {
  it('the seeds themselves are valid', () => {
    for (const s of seeds) expect(parseMessage(Buffer.from(s)).ok).toBe(true);
  });

  it('parseMessage never fails internally on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, stream) => {
        const r = parseMessage(Buffer.from(bytes), { stream });
        return r.ok || r.problem !== 'parser failure';
      }),
      { numRuns: 3000 },
    );
  });

  it('parseMessage never fails internally on mutated messages, and its accessors never throw', () => {
    fc.assert(
      fc.property(mutated, (buf) => {
        const r = parseMessage(buf);
        if (!r.ok && r.problem === 'parser failure') return false;
        const m = r.message;
        if (m !== null) {
          void [m.vias(), m.contacts, m.digestUsers, m.expires, m.isDeregister, m.userAgent, m.from, m.to, m.header('Route')];
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('the proxy handler never fails on mutated messages, and everything it sends parses', () => {
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 5 }), (inputs) => {
        const { proxy, sent } = proxyUnderTest();
        for (const input of inputs) proxy.handle(input, client);
        expect(proxy.stats.handlerErrors).toBe(0);
        for (const out of sent) {
          const r = parseMessage(out);
          expect(r.ok || r.problem !== 'parser failure').toBe(true);
          // A forwarded message is never worse than what came in: requests stay framed.
          expect(out.length).toBeLessThan(70_000);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('the proxy handler never fails on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 5 }), (inputs) => {
        const { proxy } = proxyUnderTest();
        for (const input of inputs) proxy.handle(Buffer.from(input), client);
        expect(proxy.stats.handlerErrors).toBe(0);
      }),
      { numRuns: 1500 },
    );
  });

  it('forwards every valid seed request as a valid request with Max-Forwards decremented', () => {
    const { proxy, sent } = proxyUnderTest();
    for (const s of seeds.slice(1, 3)) proxy.handle(Buffer.from(s), client);
    expect(sent).toHaveLength(2);
    for (const out of sent) {
      const r = parseMessage(out);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.message.maxForwards).toBe(69);
    }
  });

  it('the stream framer never loses bytes it accepted: chunks of a stream of valid messages give them back', () => {
    const stream = seeds.slice(0, 3).join('');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const framer = new StreamFramer();
        const frames: string[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          framer.push(Buffer.from(stream.slice(from, p)), { message: (f) => frames.push(f.toString()), ping: () => undefined });
          from = p;
        }
        expect(frames).toEqual(seeds.slice(0, 3));
      }),
      { numRuns: 500 },
    );
  });
});
