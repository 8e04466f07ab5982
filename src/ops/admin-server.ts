import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ReadinessReport } from './readiness.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

export interface AdminServerOptions {
  readonly host: string;
  /** 0 lets the OS choose (tests); the bound port is in `address`. */
  readonly port: number;
  readonly metrics: SidecarMetrics;
  readonly readiness: () => ReadinessReport;
  /** The JSON `sipwarden status` prints. */
  readonly status: () => unknown;
  readonly logger: Logger;
}

export interface AdminServer {
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** The paths served; anything else is 404. */
export const ADMIN_PATHS = ['/metrics', '/healthz', '/readyz', '/status'] as const;

/**
 * The admin HTTP listener, apart from SIP: `/metrics` (Prometheus text), `/healthz` (the process
 * answers: 200 while the event loop runs), `/readyz` (200 when every readiness check passes, else
 * 503, with the checks as JSON) and `/status` (what `sipwarden status` prints). GET and HEAD
 * only; no authentication, which is why it listens on loopback unless the operator says otherwise
 * (config admin.allowRemote).
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { logger } = options;
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'admin request failed');
      if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  // A scrape or a probe is one small request: no slow client holds a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'admin listener error'));
  const bound = server.address() as AddressInfo;
  const address = { host: options.host, port: bound.port };
  logger.info({ admin: `http://${hostForUrl(address.host)}:${address.port}`, paths: ADMIN_PATHS }, 'admin listener ready');
  let closing: Promise<void> | undefined;
  return {
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, o: AdminServerOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, req, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
    return;
  }
  const path = new URL(req.url ?? '/', 'http://admin').pathname;
  switch (path) {
    case '/metrics':
      send(res, req, 200, o.metrics.contentType, await o.metrics.text());
      return;
    case '/healthz':
      sendJson(res, req, 200, { alive: true });
      return;
    case '/readyz': {
      const report = o.readiness();
      sendJson(res, req, report.ready ? 200 : 503, report);
      return;
    }
    case '/status':
      sendJson(res, req, 200, o.status());
      return;
    default:
      send(res, req, 404, 'text/plain; charset=utf-8', `not found; expected one of ${ADMIN_PATHS.join(', ')}\n`);
  }
}

function sendJson(res: ServerResponse, req: IncomingMessage, status: number, body: unknown): void {
  send(res, req, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** An IPv6 literal goes in brackets in a URL. */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
