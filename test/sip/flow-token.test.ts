import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindsDialog, FlowTokens } from '../../src/sip/proxy/flow-token.js';
import type { Flow } from '../../src/sip/transports/flow.js';

const KEY = Buffer.alloc(32, 7);
const FLOW: Flow = { transport: 'udp', address: '127.0.0.1', port: 25599 };

describe('flow tokens', () => {
  it('seal the flow: nothing of the address, port or transport reads in clear', () => {
    const token = new FlowTokens(KEY).forRegistration(FLOW);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(token, 'base64url');
    for (const clear of ['127.0.0.1', 'udp', '25599']) expect(bytes.toString('latin1')).not.toContain(clear);
    // The port as big-endian bytes does not show either (it is encrypted, not just encoded).
    expect(bytes.indexOf(Buffer.from([0x63, 0xff]))).toBe(-1);
  });

  it('open with the same key in another process (a restart), and not with another key', () => {
    const token = new FlowTokens(KEY).forRegistration(FLOW);
    expect(new FlowTokens(Buffer.from(KEY)).open(token)).toEqual({ kind: 'registration', flow: FLOW, binding: null, instance: null });
    expect(new FlowTokens(randomBytes(32)).open(token)).toBeNull();
  });

  it('refuse any altered token (every single-byte change)', () => {
    const tokens = new FlowTokens(KEY);
    const raw = Buffer.from(tokens.forDialog({ transport: 'ws', address: '::1', port: 1 }, 'call@x', 'tag'), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i] = (altered[i] ?? 0) ^ 0x01;
      expect(new FlowTokens(KEY).open(altered.toString('base64url')), `byte ${i}`).toBeNull();
    }
    expect(tokens.open('not-a-token')).toBeNull();
    expect(tokens.open('dWRwfDEyNy4wLjAuMXwyNTU5OQ.NPA1MZdO57Kv')).toBeNull();
  });

  it('give each flow its own token, the same one every time, for any IPv4/IPv6 flow', () => {
    const tokens = new FlowTokens(KEY);
    const flow = fc.record({
      transport: fc.constantFrom<Flow['transport']>('udp', 'tcp', 'ws', 'tls', 'wss'),
      address: fc.oneof(fc.ipV4(), fc.ipV6()),
      port: fc.integer({ min: 1, max: 65535 }),
    });
    fc.assert(
      fc.property(flow, (f) => {
        const token = tokens.forRegistration(f);
        expect(tokens.forRegistration(f)).toBe(token);
        expect(new FlowTokens(KEY).open(token)?.flow).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it('bind a dialog token to its Call-ID and caller tag, from either side of the dialog', () => {
    const tokens = new FlowTokens(KEY);
    const claim = tokens.open(tokens.forDialog(FLOW, 'abc@host', 'caller'));
    expect(claim?.kind).toBe('dialog');
    if (claim === null) return;
    expect(bindsDialog(claim, 'abc@host', 'caller', 'callee')).toBe(true); // from the caller
    expect(bindsDialog(claim, 'abc@host', 'callee', 'caller')).toBe(true); // from the callee
    expect(bindsDialog(claim, 'abd@host', 'caller', 'callee')).toBe(false);
    expect(bindsDialog(claim, 'abc@host', 'someone', 'else')).toBe(false);
    expect(bindsDialog(claim, null, 'caller', 'callee')).toBe(false);
    const registration = tokens.open(tokens.forRegistration(FLOW));
    expect(registration !== null && bindsDialog(registration, 'abc@host', 'caller', 'callee')).toBe(false);
  });
});
