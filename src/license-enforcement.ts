import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { Enforcer, type EnforcerDeps, type EnforcerOptions } from './sip/enforcement/enforcer.js';
import type { LiveSnapshot } from './store/live-snapshot.js';
import type { StoreHealth } from './store/store-health.js';
import { StoreInstallLedger } from './store/store-install-ledger.js';

/*
 * The wiring that `sipwarden serve` (main.ts) and a drachtio-srf application (create-sipwarden.ts)
 * share, so that both enforce the same policy the same way: the install ledger that records claims
 * into the live snapshot, and the enforcer that decides on that snapshot and ledger.
 */

export interface InstallLedgerWiring {
  readonly database: string;
  readonly policy: Config['policy'];
  readonly live: LiveSnapshot;
  readonly health: StoreHealth;
  readonly logger: Logger;
  /** Pragmas for the writer's own connection (tests simulating a store that cannot be written). */
  readonly writerPragmas?: readonly string[];
}

/** The install ledger over `database`: a claim it records is applied to the live snapshot at once. */
export function openInstallLedger(w: InstallLedgerWiring): StoreInstallLedger {
  return new StoreInstallLedger({
    path: w.database,
    claimTimeoutMs: w.policy.claimTimeoutMs,
    onClaimed: (claimed) => w.live.applyClaim(claimed),
    onClaimSent: (input) => w.live.expectClaim(input.number),
    health: w.health,
    writer: {
      ...(w.writerPragmas === undefined ? {} : { pragmas: w.writerPragmas }),
      onDown: (err) => w.logger.error({ err }, 'install writer thread failed; it is started again on the next write'),
    },
  });
}

/** The enforcer of `policy` (the config file's section) over the live snapshot and the ledger. */
export function licenseEnforcer(
  policy: Config['policy'],
  deps: Omit<EnforcerDeps, 'snapshot' | 'installs'> & { readonly live: LiveSnapshot; readonly ledger: StoreInstallLedger },
  options: Pick<EnforcerOptions, 'warnAgent' | 'refusalLinesPerSecond' | 'rememberFlows'>,
): Enforcer {
  const { live, ledger, ...rest } = deps;
  return new Enforcer(
    { ...rest, snapshot: () => live.current, installs: ledger },
    {
      policy,
      detection: { userAgent: policy.mobileAppUserAgent ? new RegExp(policy.mobileAppUserAgent) : null },
      useDomain: policy.useDomain,
      servedDomains: policy.servedDomains,
      onInternalError: policy.onInternalError,
      mode: policy.mode,
      ...options,
    },
  );
}
