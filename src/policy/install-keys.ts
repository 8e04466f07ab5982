/**
 * The identifiers a mobile-app install is known by (DESIGN.md §2), strongest first: RFC 5626
 * `+sip.instance`, RFC 8599 `pn-prid`, the Contact URI. An install is stored under the strongest
 * one it first carried (its id) and keeps every one it has shown since.
 */
export interface InstallKeys {
  readonly instance: string | null;
  readonly prid: string | null;
  readonly contact: string | null;
}

export const INSTALL_KEY_KINDS = ['instance', 'prid', 'contact'] as const;
export type InstallKeyKind = (typeof INSTALL_KEY_KINDS)[number];

export const NO_INSTALL_KEYS: InstallKeys = Object.freeze({ instance: null, prid: null, contact: null });

/** The id a new install is stored under: its strongest identifier. */
export function installIdOf(keys: InstallKeys): string | null {
  return keys.instance ?? keys.prid ?? keys.contact;
}

/**
 * The install of one number that a request carrying `keys` comes from, looked up by each
 * identifier, strongest first (`find` looks within the request's own number only, so an
 * identifier never reaches another number's licence). A match on a weaker identifier counts only
 * when every stronger identifier that both the request and the install have agrees: an app whose
 * INVITE carries its `pn-prid` but not its `+sip.instance` is recognised, while a second install
 * that happens to share a Contact URI, or shows another install's token with its own instance, is not.
 */
export function matchInstall<T extends { readonly keys: InstallKeys }>(
  keys: InstallKeys,
  find: (kind: InstallKeyKind, value: string) => T | undefined,
): T | undefined {
  for (let level = 0; level < INSTALL_KEY_KINDS.length; level++) {
    const kind = INSTALL_KEY_KINDS[level] as InstallKeyKind;
    const value = keys[kind];
    if (value === null) continue;
    const found = find(kind, value);
    if (found !== undefined && agreesAbove(keys, found.keys, level)) return found;
  }
  return undefined;
}

function agreesAbove(request: InstallKeys, stored: InstallKeys, level: number): boolean {
  for (let l = 0; l < level; l++) {
    const kind = INSTALL_KEY_KINDS[l] as InstallKeyKind;
    const mine = request[kind];
    const theirs = stored[kind];
    if (mine !== null && theirs !== null && mine !== theirs) return false;
  }
  return true;
}
