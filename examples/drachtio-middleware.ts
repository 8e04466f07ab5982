/**
 * sipwarden inside your own drachtio-srf application (docs/drachtio.md shows this file).
 *   npm run build && node dist/examples/drachtio-middleware.js
 * Settings come from the environment only to keep the example short and runnable by the tests.
 */
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { createSipwarden } from 'sipwarden';

const env = process.env;
// Your application's logger: sipwarden logs its decisions through it, as { module: 'sipwarden' }.
const logger = pino({ base: { app: 'my-drachtio-app' } });

// The database the operators manage with the sipwarden CLI (`sipwarden init` created it). The
// policy options are the config file's `policy` section; a bad one throws, naming every problem.
// Licence data is kept in memory and follows a CLI change within reload.intervalMs; a new
// mobile-app install's licence is taken by a writer thread of sipwarden's own, so the event loop
// never waits for the database's write lock (503 + Retry-After when it cannot be written).
const sw = await createSipwarden({
  database: env['SIPWARDEN_DB'] ?? '/var/lib/sipwarden/sipwarden.db',
  logger,
  policy: { mobileAppUserAgent: '^IntercomApp/', onInternalError: 'fail-open' },
  warnAgent: 'sbc.intercom.example', // the host in `Warning: 399 <host> "..."`
});

// Your application's Srf. sw.connect keeps it connected with a capped backoff; unlike
// srf.connect() + srf.disconnect(), sw.close() stops it also while drachtio-server is down.
const srf = new Srf();
sw.connect(srf, { host: env['DRACHTIO_HOST'] ?? '127.0.0.1', port: Number(env['DRACHTIO_PORT'] ?? 9022), secret: env['DRACHTIO_SECRET'] ?? 'cymru' });

// sipwarden first: a refused request is answered here (403 + Warning + X-Sipwarden-Reason) and
// never reaches the handlers below; an allowed one goes on with next().
srf.use('register', sw.middleware);
srf.use('invite', sw.middleware);

// Then your handlers, e.g. on to the registrar. sw.proxyTo is what `sipwarden serve` uses: it
// keeps the callee when phones address drachtio-server itself, and relays `Contact: *`
// de-REGISTERs itself, which drachtio-server 0.9.10 crashes on when it proxies them.
const registrar = sw.proxyTo(srf, { host: env['REGISTRAR_HOST'] ?? '10.0.0.2', port: Number(env['REGISTRAR_PORT'] ?? 5060), transport: 'udp' });
srf.use('register', registrar);
srf.use('invite', registrar);

let stopping: Promise<void> | undefined;
async function stop(signal: NodeJS.Signals): Promise<void> {
  logger.info({ signal }, 'stopping');
  await sw.close(); // the drachtio connection (also while it is down or being retried), then the database
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, (s) => void (stopping ??= stop(s)));
