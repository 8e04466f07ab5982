import { installIdOf, matchInstall, type InstallKeys } from './install-keys.js';
import type { LicenseSnapshot } from './snapshot.js';

/**
 * The id of the install a mobile-app request on `number` comes from: a licensed install of that
 * number recognised by any identifier it was stored under (see `matchInstall`), else the request's
 * strongest identifier (a new install, or one the snapshot knows only by its id). Null when the
 * request carries no identifier. Pure: REGISTER and INVITE both go through it, so an app is
 * recognised the same way whichever Contact variant its client sends.
 */
export function recogniseInstall(snapshot: LicenseSnapshot, number: string, keys: InstallKeys): string | null {
  const found = matchInstall(keys, (kind, value) => snapshot.installBy(kind, value, number));
  return found?.instanceId ?? installIdOf(keys);
}
