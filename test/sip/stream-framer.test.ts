import { describe, expect, it } from 'vitest';
import { StreamFramer } from '../../src/sip/transports/stream-framer.js';
import { invite, register } from './messages.js';

function feed(chunks: Buffer[]): { frames: string[]; pings: number; ok: boolean } {
  const framer = new StreamFramer();
  const frames: string[] = [];
  let pings = 0;
  let ok = true;
  for (const c of chunks) {
    ok = framer.push(c, { message: (f) => frames.push(f.toString()), ping: () => pings++ }) && ok;
  }
  return { frames, pings, ok };
}

describe('StreamFramer (RFC 3261 §18.3)', () => {
  const a = register({ callId: 'a', branch: 'z9hG4bK1' });
  const b = invite({ callId: 'b', branch: 'z9hG4bK2' });

  it('cuts two messages arriving in one chunk', () => {
    expect(feed([Buffer.from(a + b)]).frames).toEqual([a, b]);
  });

  it('joins a message split byte by byte, body included', () => {
    const bytes = Buffer.from(b + a);
    const chunks = [...bytes].map((x) => Buffer.from([x]));
    expect(feed(chunks).frames).toEqual([b, a]);
  });

  it('answers CRLFCRLF keep-alives between messages (RFC 5626 §4.4.1)', () => {
    const r = feed([Buffer.from(`\r\n\r\n${a}\r\n`), Buffer.from(`\r\n${b}`)]);
    expect(r.frames).toEqual([a, b]);
    expect(r.pings).toBe(2);
  });

  it('gives up on a message that cannot fit in 64 KiB', () => {
    expect(feed([Buffer.from(a.replace('Content-Length: 0', 'Content-Length: 70000'))]).ok).toBe(false);
    expect(feed([Buffer.from(`REGISTER sip:x SIP/2.0\r\nX: ${'y'.repeat(70_000)}`)]).ok).toBe(false);
  });

  it('holds an incomplete body until it arrives', () => {
    const cut = b.length - 10;
    const first = feed([Buffer.from(b.slice(0, cut))]);
    expect(first.frames).toEqual([]);
    expect(feed([Buffer.from(b.slice(0, cut)), Buffer.from(b.slice(cut))]).frames).toEqual([b]);
  });
});
