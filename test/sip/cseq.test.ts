import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/message/parse-message.js';

function cseqOf(value: string, method = 'REGISTER'): unknown {
  const text = [`${method} sip:h SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', 'From: <sip:a@h>;tag=1', 'To: <sip:a@h>', 'Call-ID: c1', `CSeq: ${value}`, 'Content-Length: 0', '', ''].join('\r\n');
  const r = parseMessage(Buffer.from(text, 'latin1'));
  return r.message?.cseq ?? null;
}

describe('CSeq read from the bytes (RFC 3261 §20.16)', () => {
  it.each([
    ['1 REGISTER', { seq: 1, method: 'REGISTER' }],
    ['2147483647 REGISTER', { seq: 2147483647, method: 'REGISTER' }],
    ['0000000007 \t REGISTER', { seq: 7, method: 'REGISTER' }],
    ['5\u00a0REGISTER', { seq: 5, method: 'REGISTER' }],
    // A known method is read without regard to case, as the SIP server reads it (Kamailio parse_method).
    ['3 register', { seq: 3, method: 'REGISTER' }],
    ['3 Foo', { seq: 3, method: 'Foo' }],
    ['3 INVITE', { seq: 3, method: 'INVITE' }],
    ['2147483648 REGISTER', null],
    ['00000000001 REGISTER', null],
    ['1REGISTER', null],
    ['REGISTER', null],
    ['1 REG ISTER', null],
    ['1 REG;ISTER', null],
    ['-1 REGISTER', null],
  ])('%j → %j', (value, expected) => {
    expect(cseqOf(value)).toEqual(expected);
  });
});
