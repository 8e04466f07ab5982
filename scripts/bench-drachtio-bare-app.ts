/**
 * The reference of the drachtio path of `bench:sip`: a bare drachtio-srf application that proxies
 * every REGISTER, INVITE and OPTIONS it is offered to the registrar and does nothing else — what a
 * drachtio user writes first, and what sipwarden's drachtio mode is compared with.
 *   node dist/scripts/bench-drachtio-bare-app.js <admin port> <secret> <destination URI>
 * One JSON line on stdout when connected; SIGTERM ends it.
 */
import Srf from 'drachtio-srf';

const [port, secret, destination] = process.argv.slice(2);
if (port === undefined || secret === undefined || destination === undefined) {
  console.error('usage: bench-drachtio-bare-app.js <admin port> <secret> <destination URI>');
  process.exit(2);
}

const srf = new Srf();
srf.on('connect', (err, hostport) => {
  console.log(JSON.stringify(err ? { msg: 'drachtio-server refused us', err: String(err) } : { msg: 'connected to drachtio-server', hostport }));
});
srf.on('error', (err) => console.log(JSON.stringify({ msg: 'drachtio connection error', err: String(err) })));
for (const method of ['register', 'invite', 'options']) {
  srf.use(method, (req) => {
    srf.proxyRequest(req, destination, { recordRoute: method === 'invite' }, (err) => {
      if (err) console.log(JSON.stringify({ msg: 'proxy failed', err: String(err) }));
    });
  });
}
void srf.connect({ host: '127.0.0.1', port: Number(port), secret });
process.once('SIGTERM', () => process.exit(0));
