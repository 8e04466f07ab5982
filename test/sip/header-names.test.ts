import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalName, COMPACT_FORMS } from '../../src/sip/message/header-names.js';

/** RFC 3261 §25.1 token characters: what a header name is made of. */
const TOKEN = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~'];

describe('canonicalName', () => {
  it('expands compact forms in any case and lower-cases full names (RFC 3261 §7.3.1, §7.3.3)', () => {
    expect(canonicalName('m')).toBe('contact');
    expect(canonicalName('I')).toBe('call-id');
    expect(canonicalName(' Call-ID ')).toBe('call-id');
    expect(canonicalName('X-Custom')).toBe('x-custom');
    expect(canonicalName('q')).toBe('q'); // one letter, but no compact form
  });

  it('is a string for names that are also properties of every object (constructor, __proto__, toString)', () => {
    // Looked up in COMPACT_FORMS, these returned Object, Object.prototype and Object.prototype.toString.
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(canonicalName(name)).toBe(name.toLowerCase());
    }
  });

  it('for any token: a compact form when one letter names one, else the name in lower case', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKEN), { minLength: 1, maxLength: 20 }), (chars) => {
        const name = chars.join('');
        const lower = name.toLowerCase();
        const compact = lower.length === 1 && Object.hasOwn(COMPACT_FORMS, lower) ? COMPACT_FORMS[lower] : undefined;
        expect(canonicalName(name)).toBe(compact ?? lower);
      }),
    );
  });
});
