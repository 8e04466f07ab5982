import { describe, expect, it } from 'vitest';
import { installIdOf, matchInstall, type InstallKeys } from '../../src/policy/install-keys.js';
import { recogniseInstall } from '../../src/policy/recognise-install.js';
import { buildSnapshot } from '../../src/policy/snapshot-builder.js';
import { license } from './fixtures.js';

const keys = (instance: string | null, prid: string | null, contact: string | null): InstallKeys => ({ instance, prid, contact });

/** Tree 1: number 100 with install A (all three identifiers), number 101 with install B (token only). */
const snapshot = buildSnapshot({
  licenses: [license({ rootId: 1, name: 'tower' })],
  users: [{ userId: 1, login: 'u', rootId: 1, personalNumbers: null, personalApps: null }],
  numbers: [
    { number: '100', userId: 1, rootId: 1 },
    { number: '101', userId: 1, rootId: 1 },
  ],
  installs: [
    { instanceId: 'urn:uuid:a', number: '100', userId: 1, rootId: 1, keys: keys('urn:uuid:a', 'token-a', 'sip:x1@h;transport=ws') },
    { instanceId: 'token-b', number: '101', userId: 1, rootId: 1, keys: keys(null, 'token-b', 'sip:x2@h') },
  ],
});

describe('recognising an install by any identifier it was stored under', () => {
  it.each([
    ['+sip.instance and pn-prid', keys('urn:uuid:a', 'token-a', 'sip:other@h')],
    ['pn-prid without +sip.instance', keys(null, 'token-a', 'sip:other@h')],
    ['the Contact URI alone', keys(null, null, 'sip:x1@h;transport=ws')],
    ['a rotated push token with its +sip.instance', keys('urn:uuid:a', 'token-new', null)],
  ])('%s', (_what, request) => {
    expect(recogniseInstall(snapshot, '100', request)).toBe('urn:uuid:a');
  });

  it('adopts a +sip.instance shown later by an install stored under its token', () => {
    expect(recogniseInstall(snapshot, '101', keys('urn:uuid:b', 'token-b', null))).toBe('token-b');
  });

  it('never on another number: the identifier does not reach that licence', () => {
    expect(recogniseInstall(snapshot, '101', keys('urn:uuid:a', 'token-a', 'sip:x1@h;transport=ws'))).toBe('urn:uuid:a');
    expect(snapshot.install('urn:uuid:a', '101')).toBeUndefined();
  });

  it('not when a stronger identifier the install has disagrees', () => {
    // Its own instance with another install's token: a second install, not install A.
    expect(recogniseInstall(snapshot, '100', keys('urn:uuid:c', 'token-a', null))).toBe('urn:uuid:c');
    // Another token behind the same Contact URI (two phones behind one NAT binding).
    expect(recogniseInstall(snapshot, '100', keys(null, 'token-c', 'sip:x1@h;transport=ws'))).toBe('token-c');
  });

  it('a new install is stored under its strongest identifier', () => {
    expect(installIdOf(keys('urn:uuid:n', 'p', 'c'))).toBe('urn:uuid:n');
    expect(installIdOf(keys(null, 'p', 'c'))).toBe('p');
    expect(installIdOf(keys(null, null, 'c'))).toBe('c');
    expect(installIdOf(keys(null, null, null))).toBeNull();
    expect(matchInstall(keys(null, null, null), () => ({ keys: keys('x', null, null) }))).toBeUndefined();
  });

  it('forgets the identifiers of a tree that is reloaded without the install', () => {
    const index = buildSnapshot({
      licenses: [license({ rootId: 1, name: 'tower' })],
      users: [],
      numbers: [{ number: '100', userId: 1, rootId: 1 }],
      installs: [{ instanceId: 'urn:uuid:a', number: '100', userId: 1, rootId: 1, keys: keys('urn:uuid:a', 'token-a', null) }],
    });
    expect(index.installBy('prid', 'token-a', '100')).toMatchObject({ instanceId: 'urn:uuid:a' });
    index.replaceGroup(1, { license: license({ rootId: 1, name: 'tower', revision: 2 }), users: [], numbers: [{ number: '100', userId: 1, rootId: 1 }], installs: [] });
    expect(index.installBy('prid', 'token-a', '100')).toBeUndefined();
  });
});
