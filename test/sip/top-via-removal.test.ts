import { describe, expect, it } from 'vitest';
import { HeaderId } from '../../src/sip/message/header-names.js';
import { MessageEditor } from '../../src/sip/message/message-editor.js';
import { parseMessage } from '../../src/sip/message/parse-message.js';
import { removalRanges } from '../../src/sip/message/remove-values.js';
import type { SipMessage } from '../../src/sip/message/sip-message.js';
import { firstValueStart, splitValues, valueEndAt } from '../../src/sip/message/split-values.js';
import { cutBytes, topViaRemoval } from '../../src/sip/message/top-via-removal.js';
import { parseVia } from '../../src/sip/message/via.js';

function response(...vias: string[]): SipMessage {
  const text = ['SIP/2.0 200 OK', ...vias, 'From: <sip:a@h>;tag=1', 'To: <sip:a@h>;tag=2', 'Call-ID: c1', 'CSeq: 1 REGISTER', 'Content-Length: 0', '', ''].join('\r\n');
  const r = parseMessage(Buffer.from(text, 'latin1'));
  if (!r.ok) throw new Error(r.problem);
  return r.message;
}

/** What the relay did before: values(VIA, 2), removalRanges of the first, parseVia of the second. */
function reference(m: SipMessage): { bytes: string; next: ReturnType<typeof parseVia> } {
  const values = m.values(HeaderId.VIA, 2);
  const editor = new MessageEditor(m.buf);
  for (const [s, e] of removalRanges(values, new Set([0]))) editor.remove(s, e);
  const second = values[1];
  return { bytes: editor.toBuffer().toString('latin1'), next: second === undefined ? null : parseVia(second.text, second.start) };
}

const CASES: ReadonlyArray<readonly string[]> = [
  ['Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsw1', 'Via: SIP/2.0/UDP 10.0.0.2:5099;rport=5099;received=10.0.0.9;branch=z9hG4bK2'],
  ['Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsw1, SIP/2.0/TCP [::1]:5070;branch=z9hG4bK2', 'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK3'],
  ['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsw1 ,  , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2,SIP/2.0/UDP 10.0.0.3;branch=x'],
  ['v:  , SIP/2.0/UDP 10.0.0.1;x="a,b";branch=z9hG4bKsw1 , ', 'Via: ,', 'Via: SIP/2.0/WS h.example;branch=z9hG4bK2;rport'],
  ['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsw1'],
  ['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsw1', 'Via: garbage here'],
];

describe('topViaRemoval', () => {
  it.each(CASES.map((c, i) => [i, c] as const))('cuts and reads what removalRanges and values() did (case %i)', (_i, vias) => {
    const m = response(...vias);
    const r = topViaRemoval(m);
    expect(r).not.toBeNull();
    if (r === null) return;
    const expected = reference(m);
    expect(cutBytes(m.buf, r.start, r.end).toString('latin1')).toBe(expected.bytes);
    expect(r.next).toEqual(expected.next);
  });

  it('reads the second Via value on the same line and on the next line', () => {
    expect(topViaRemoval(response(...(CASES[1] ?? [])))?.next?.host).toBe('::1');
    expect(topViaRemoval(response(...(CASES[0] ?? [])))?.next).toMatchObject({ host: '10.0.0.2', received: '10.0.0.9', rport: 5099 });
    expect(topViaRemoval(response(...(CASES[4] ?? [])))?.next).toBeNull();
  });
});

describe('firstValueStart / valueEndAt', () => {
  const samples = ['a, b', '  ,, x ;p="q,\\"r" , y', '<sip:a,b@h>, c', ' , ', '"unterminated, x', 'z\\', ''];
  it.each(samples)('find the first range splitValues finds in %j', (text) => {
    const buf = Buffer.from(`X${text}Y`, 'latin1');
    const end = buf.length - 1;
    const s = firstValueStart(buf, 1, end);
    const ranges = splitValues(text);
    if (ranges.length === 0) {
      expect(s).toBe(end);
      return;
    }
    expect([s - 1, valueEndAt(buf, s, end) - 1]).toEqual([ranges[0], ranges[1]]);
  });
});
