import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError } from './config/load-config.js';
import { configSchema, type ConfigInput } from './config/schema.js';
import { DrachtioConnection, type DrachtioTarget } from './sip/drachtio/connection.js';
import type { DrachtioMiddleware } from './sip/drachtio/drachtio-types.js';
import { sipwardenMiddleware } from './sip/drachtio/middleware.js';
import { proxyMiddleware } from './sip/drachtio/proxy-middleware.js';
import { asSrfClient } from './sip/drachtio/srf.js';
import type { UpstreamTarget } from './sip/drachtio/upstream-uri.js';
import { openDatabase } from './store/database.js';
import { licenseEnforcer, openInstallLedger } from './license-enforcement.js';
import { LiveSnapshot } from './store/live-snapshot.js';
import { logStoreState, StoreHealth } from './store/store-health.js';

export type { DrachtioMiddleware, DrachtioRequest, DrachtioResponse, NextFunction } from './sip/drachtio/drachtio-types.js';
export type { DrachtioTarget, UpstreamTarget };
export { ConfigError };
export { DatabaseMissingError } from './store/database.js';

/** What a drachtio-srf application gives sipwarden (README "Inside a drachtio-srf application"). */
export interface SipwardenOptions {
  /** The database the operators manage with the `sipwarden` CLI (`sipwarden init` creates it). */
  readonly database: string;
  /**
   * The application's pino logger. Decisions (deny at info, allow at debug, with the call-id) and
   * sipwarden's own warnings go to its child `{ module: 'sipwarden' }`; nothing is written elsewhere.
   */
  readonly logger: Logger;
  /** The config file's `policy` section: same keys, defaults and checks (README "Configuration"). */
  readonly policy?: ConfigInput['policy'];
  /** The config file's `reload` section: how often CLI changes are looked for. */
  readonly reload?: ConfigInput['reload'];
  /** The host named in refusals' `Warning: 399 <host> "..."` (RFC 3261 §20.43). Default `sipwarden`. */
  readonly warnAgent?: string;
  /** Milliseconds since the epoch; for tests. Default `Date.now`. */
  readonly clock?: () => number;
}

/** sipwarden running inside a drachtio-srf application. */
export interface Sipwarden {
  /**
   * Enforces the licences on REGISTER and initial INVITE, in front of the application's handlers:
   * `srf.use('register', sw.middleware)` and `srf.use('invite', sw.middleware)`. A refused request
   * is answered here (403 with `Warning` and `X-Sipwarden-Reason`); an allowed one goes on with
   * `next()`. It never throws into drachtio-srf.
   */
  readonly middleware: DrachtioMiddleware;
  /**
   * Optional: connects `srf` to drachtio-server and keeps it connected (capped backoff, each attempt
   * logged). Unlike `srf.connect()`, `close()` stops it also while drachtio-server is down.
   */
  connect(srf: Srf, target: DrachtioTarget): void;
  /**
   * Optional: a handler that proxies requests to `upstream` as `sipwarden serve` does in drachtio
   * mode (docs/drachtio.md): the callee kept when phones address drachtio-server itself, and
   * `Contact: *` de-REGISTERs relayed by sipwarden, which drachtio-server 0.9.10 crashes on.
   */
  proxyTo(srf: Srf, upstream: UpstreamTarget): DrachtioMiddleware;
  /** Closes the drachtio connection made by `connect`, writes pending install records, closes the database. */
  close(): Promise<void>;
}

/**
 * Opens sipwarden inside a drachtio-srf application: the options are validated as the config file
 * is (a bad one throws `ConfigError` naming every problem), the licence data is loaded, and the
 * install writer thread is started before it resolves.
 *
 * ```ts
 * const sw = await createSipwarden({ database: '/var/lib/sipwarden/sipwarden.db', logger });
 * srf.use('register', sw.middleware);
 * srf.use('invite', sw.middleware);
 * ```
 */
export async function createSipwarden(options: SipwardenOptions): Promise<Sipwarden> {
  const config = validOptions(options);
  const logger = options.logger.child({ module: 'sipwarden' });
  const clock = options.clock ?? Date.now;
  const db = openDatabase(config.database);
  const live = new LiveSnapshot(db, {
    intervalMs: config.reload.intervalMs,
    onError: (err) => logger.warn({ err }, 'license reload failed; deciding on the last good snapshot'),
  });
  const ledger = openInstallLedger({
    database: config.database,
    policy: config.policy,
    live,
    health: new StoreHealth(clock, (change) => logStoreState(logger, change)),
    logger,
  });
  try {
    await ledger.ready();
  } catch (err) {
    await ledger.close();
    db.close();
    throw err;
  }
  live.start();
  // A drachtio application never sees a leg from the upstream, so it keeps no client flows (as serve's drachtio mode).
  const enforcer = licenseEnforcer(config.policy, { live, ledger, clock, logger }, { warnAgent: options.warnAgent ?? 'sipwarden', rememberFlows: false });

  const connections: DrachtioConnection[] = [];
  let closing: Promise<void> | undefined;
  return {
    middleware: sipwardenMiddleware(enforcer, { logger }),
    connect(srf, target) {
      const connection = new DrachtioConnection(asSrfClient(srf), { target, logger: logger.child({ component: 'drachtio' }) });
      connections.push(connection);
      connection.start();
    },
    proxyTo: (srf, upstream) => proxyMiddleware(asSrfClient(srf), upstream, logger),
    close() {
      closing ??= (async () => {
        await Promise.all(connections.map((c) => c.close()));
        live.stop();
        await ledger.close();
        db.close();
      })();
      return closing;
    },
  };
}

/** The config file's sections that a drachtio-srf application gives as options. */
const optionsSchema = z.strictObject({
  database: configSchema.shape.database,
  policy: configSchema.shape.policy,
  reload: configSchema.shape.reload,
});

/** Validated as the config file is: every problem at once, as `ConfigError`. */
function validOptions(options: SipwardenOptions): z.output<typeof optionsSchema> {
  const result = optionsSchema.safeParse({ database: options.database, policy: options.policy, reload: options.reload });
  if (result.success) return result.data;
  throw new ConfigError(
    'createSipwarden options',
    result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`),
  );
}
