/**
 * The reference of the drachtio path of `bench:sip`: a bare drachtio-srf application that proxies
 * every REGISTER, INVITE and OPTIONS it is offered to the registrar and does nothing else — what a
 * drachtio user writes first, and what sipwarden's drachtio mode is compared with.
 *   node dist/scripts/bench-drachtio-bare-app.js <admin port> <secret> <destination URI> [<database>]
 * With a database, the same application puts sipwarden's middleware (`createSipwarden`, the
 * README's "Inside a drachtio-srf application") in front of its REGISTER and INVITE routes, and
 * nothing else changes: the `dr-mw` path, which measures what the policy adds to the bare app.
 * One JSON line on stdout when connected; SIGTERM ends it.
 */
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { createSipwarden } from '../src/create-sipwarden.js';

const [port, secret, destination, database] = process.argv.slice(2);
if (port === undefined || secret === undefined || destination === undefined) {
  console.error('usage: bench-drachtio-bare-app.js <admin port> <secret> <destination URI> [<database>]');
  process.exit(2);
}

// sipwarden's decisions at info, as `serve` logs them in the drachtio path.
const sipwarden = database === undefined ? null : await createSipwarden({ database, logger: pino({ level: 'info' }) });
const srf = new Srf();
srf.on('connect', (err, hostport) => {
  console.log(JSON.stringify(err ? { msg: 'drachtio-server refused us', err: String(err) } : { msg: 'connected to drachtio-server', hostport }));
});
srf.on('error', (err) => console.log(JSON.stringify({ msg: 'drachtio connection error', err: String(err) })));
for (const method of ['register', 'invite', 'options']) {
  if (sipwarden !== null && method !== 'options') srf.use(method, sipwarden.middleware);
  srf.use(method, (req) => {
    srf.proxyRequest(req, destination, { recordRoute: method === 'invite' }, (err) => {
      if (err) console.log(JSON.stringify({ msg: 'proxy failed', err: String(err) }));
    });
  });
}
void srf.connect({ host: '127.0.0.1', port: Number(port), secret });
process.once('SIGTERM', () => {
  void (sipwarden?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
