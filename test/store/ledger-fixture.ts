import type { InstallInput } from '../../src/policy/install-ledger.js';
import { StoreInstallLedger, type StoreInstallLedgerOptions } from '../../src/store/store-install-ledger.js';
import type { LiveSnapshot } from '../../src/store/live-snapshot.js';
import { StoreHealth, type StoreStateChange } from '../../src/store/store-health.js';
import { T0 } from './temp-db.js';

/**
 * The SIP path's install ledger as `serve` wires it (its own writer thread on the same SQLite
 * file, claims applied to `live`), with every store state change kept for assertions.
 */
export async function testLedger(
  path: string,
  live: LiveSnapshot,
  extra: Partial<StoreInstallLedgerOptions> = {},
): Promise<{ ledger: StoreInstallLedger; health: StoreHealth; changes: StoreStateChange[] }> {
  const changes: StoreStateChange[] = [];
  const health = new StoreHealth(Date.now, (c) => changes.push(c));
  const ledger = new StoreInstallLedger({
    path,
    claimTimeoutMs: 2000,
    onClaimed: (c) => live.applyClaim(c),
    onClaimSent: (input) => live.expectClaim(input.number),
    health,
    ...extra,
  });
  await ledger.ready();
  return { ledger, health, changes };
}

/** What the SIP side hands the store for an app REGISTER of `instanceId` on `number`. */
export function installInput(instanceId: string, number: string, extra: Partial<InstallInput> = {}): InstallInput {
  return {
    instanceId,
    number,
    pnProvider: 'apns',
    pnPrid: `prid-${instanceId}`,
    pnParam: 'TEAM.app.voip',
    contact: `<sip:${number}@10.0.0.1;transport=ws>`,
    userAgent: 'IntercomApp/3.1',
    now: T0,
    ...extra,
  };
}
