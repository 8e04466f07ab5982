/**
 * sipwarden inside your own drachtio-srf application (docs/drachtio.md shows this file).
 *   npm run build && node dist/examples/drachtio-middleware.js
 * Settings come from the environment only to keep the example short and runnable by the tests.
 */
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { DEFAULT_POLICY_OPTIONS } from '../src/policy/request-facts.js';
import { asSrfClient, DrachtioConnection, proxyMiddleware, sipwardenMiddleware } from '../src/sip/drachtio/index.js';
import { Enforcer } from '../src/sip/enforcement/enforcer.js';
import { openDatabase } from '../src/store/database.js';
import { StoreInstallLedger } from '../src/store/install-ledger.js';
import { LiveSnapshot } from '../src/store/live-snapshot.js';
import { StoreHealth } from '../src/store/store-health.js';

const env = process.env;
const logger = pino({ base: { app: 'my-drachtio-app' } });

// The database the operators manage with the sipwarden CLI (`sipwarden init` created it).
const dbPath = env['SIPWARDEN_DB'] ?? '/var/lib/sipwarden/sipwarden.db';
const db = openDatabase(dbPath);

// Licence data in memory, refreshed within a second of a CLI change (PRAGMA data_version).
const live = new LiveSnapshot(db, {
  intervalMs: 200,
  onError: (err) => logger.warn({ err }, 'licence reload failed; deciding on the last good snapshot'),
});
live.start();

// Mobile-app licences are taken (and push parameters kept) by the store, in one transaction, on a
// writer thread of its own: the event loop never waits for the database's write lock. A licence
// it cannot write within claimTimeoutMs is not granted (503 + Retry-After).
const installs = new StoreInstallLedger({
  path: dbPath,
  claimTimeoutMs: 2000,
  onClaimed: (claimed) => live.applyClaim(claimed),
  onClaimSent: (input) => live.expectClaim(input.number),
  health: new StoreHealth(Date.now, (change) => logger.warn({ store: change.state }, 'licence store write state changed')),
});

const enforcer = new Enforcer(
  { snapshot: () => live.current, installs, clock: Date.now, logger },
  {
    policy: DEFAULT_POLICY_OPTIONS,
    detection: { userAgent: /^IntercomApp\// }, // or null: RFC 8599 Contact parameters alone
    servedDomains: [], // empty: enforce every domain
    onInternalError: 'fail-open', // or 'fail-closed': 503 + Retry-After when sipwarden is in trouble
    warnAgent: 'sbc.intercom.example', // the host in `Warning: 399 <host> "..."`
  },
);

// Your application's Srf. DrachtioConnection connects it and reconnects with a capped backoff;
// unlike srf.connect() + srf.disconnect(), it can be stopped while drachtio-server is down.
const srf = new Srf();
const drachtio = asSrfClient(srf);
const connection = new DrachtioConnection(drachtio, {
  target: { host: env['DRACHTIO_HOST'] ?? '127.0.0.1', port: Number(env['DRACHTIO_PORT'] ?? 9022), secret: env['DRACHTIO_SECRET'] ?? 'cymru' },
  logger,
});
connection.start();

// sipwarden first: a refused request is answered here (403 + Warning + X-Sipwarden-Reason) and
// never reaches the handlers below; an allowed one goes on with next().
const sipwarden = sipwardenMiddleware(enforcer, { logger });
srf.use('register', sipwarden);
srf.use('invite', sipwarden);

// Then your handlers, e.g. on to the registrar. proxyMiddleware is what `sipwarden serve` uses: it
// keeps the callee when phones address drachtio-server itself, and relays `Contact: *`
// de-REGISTERs itself, which drachtio-server 0.9.10 crashes on when it proxies them.
const registrar = proxyMiddleware(drachtio, { host: env['REGISTRAR_HOST'] ?? '10.0.0.2', port: Number(env['REGISTRAR_PORT'] ?? 5060), transport: 'udp' }, logger);
srf.use('register', registrar);
srf.use('invite', registrar);

let stopping: Promise<void> | undefined;
async function stop(signal: NodeJS.Signals): Promise<void> {
  logger.info({ signal }, 'stopping');
  await connection.close(); // also while drachtio-server is down or still being retried
  live.stop();
  await installs.close();
  db.close();
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, (s) => void (stopping ??= stop(s)));
