/**
 * Starts a real Kamailio registrar on 127.0.0.1:5080 (UDP and TCP) as the SIP server behind the
 * sidecar, for trying sipwarden on one machine (README walk-through). It stores the Path the
 * sidecar adds (`use_path 1`, `path_mode 0`), so calls to clients come back through the sidecar
 * (README "Path and the registrar"). Needs Kamailio installed
 * (scripts/install-test-deps.sh). Stops it on Ctrl-C.
 *
 *   node dist/scripts/demo-registrar.js [port]
 */
import { startKamailio } from '../test/support/kamailio.js';

const port = Number(process.argv[2] ?? 5080);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`demo-registrar: port must be 1-65535, got "${process.argv[2]}"`);
  process.exit(2);
}
const registrar = await startKamailio({ config: 'registrar', port });
console.log(`Kamailio registrar listening on udp/tcp 127.0.0.1:${registrar.port} (pid ${registrar.pid}); Ctrl-C stops it`);
const stop = (): void => {
  void registrar.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
