import type { Logger } from 'pino';
import type { Enforcer } from '../enforcement/enforcer.js';
import { DrachtioConnection, type DrachtioTarget, type ReconnectPolicy } from './connection.js';
import type { SrfClient } from './drachtio-types.js';
import { sipwardenMiddleware } from './middleware.js';
import { proxyMiddleware } from './proxy-middleware.js';
import { createSrf } from './srf.js';
import { upstreamUri, type UpstreamTarget } from './upstream-uri.js';

/**
 * The methods drachtio-server hands to an application as new requests (drachtio-server
 * `DrachtioController::processMessageStatelessly`); in-dialog requests of a record-routed dialog,
 * ACK and CANCEL it relays or answers itself.
 */
export const PROXIED_METHODS = ['register', 'invite', 'subscribe', 'options', 'message', 'info', 'notify', 'publish'] as const;

export interface DrachtioServeOptions {
  /** drachtio-server's admin (client) port, which we connect out to. */
  readonly drachtio: DrachtioTarget;
  readonly upstream: UpstreamTarget;
  readonly enforcer: Enforcer;
  readonly logger: Logger;
  readonly reconnect?: Partial<ReconnectPolicy>;
  /** How long `close()` waits for drachtio-server to close the connection (default 3 s). */
  readonly closeTimeoutMs?: number;
}

export interface DrachtioServe {
  /** Where allowed requests are proxied, e.g. `sip:10.0.0.2:5060;transport=udp`. */
  readonly upstreamUri: string;
  isConnected(): boolean;
  /** Resolves once authenticated to drachtio-server; rejects if closed first. */
  whenConnected(): Promise<void>;
  /** Stops reconnecting and disconnects from drachtio-server. Idempotent. */
  close(): Promise<void>;
}

/**
 * `sipwarden serve` in drachtio mode: connects to a drachtio-server (outbound connection from our
 * side, `srf.connect`), enforces on REGISTER and initial INVITE, and proxies what is allowed to
 * the upstream SIP server. Resolves at once: the connection is made, and remade after a loss, in
 * the background with logged attempts, so a sidecar started before its drachtio-server waits for
 * it instead of failing.
 *
 * The pipeline per method reads like the jambonz apps: `register: [sipwarden, proxy]`,
 * `invite: [sipwarden, proxy]`, every other out-of-dialog method: `[proxy]`.
 */
export async function startDrachtioServe(options: DrachtioServeOptions): Promise<DrachtioServe> {
  const logger = options.logger.child({ component: 'drachtio' });
  const srf = createSrf();
  const destination = upstreamUri(options.upstream);
  route(srf, options.enforcer, options.upstream, logger);

  const connection = new DrachtioConnection(srf, {
    target: options.drachtio,
    logger,
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
    ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
  });
  connection.start();
  logger.info({ drachtio: `${options.drachtio.host}:${options.drachtio.port}`, upstream: destination }, 'connecting to drachtio-server');

  return {
    upstreamUri: destination,
    isConnected: () => connection.connected,
    whenConnected: () => connection.whenConnected(),
    close: () => connection.close(),
  };
}

function route(srf: SrfClient, enforcer: Enforcer, upstream: UpstreamTarget, logger: Logger): void {
  const enforce = sipwardenMiddleware(enforcer, { logger });
  const proxy = proxyMiddleware(srf, upstream, logger);
  srf.use('register', enforce);
  srf.use('invite', enforce);
  for (const method of PROXIED_METHODS) srf.use(method, proxy);
}
