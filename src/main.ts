import { statSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { startNotifications, type Notifications } from './notify/notifications.js';
import { HepSender } from './sip/capture/hep-sender.js';
import { SipCapture } from './sip/capture/sip-capture.js';
import { loadTlsCredentials, TlsFileError, upstreamTlsOptions, type TlsCredentials } from './sip/transports/tls-credentials.js';
import { Operations, ReloadStats } from './ops/operations.js';
import { startEmbeddedProxy, type EmbeddedProxy } from './sip/proxy/embedded-proxy.js';
import type { Gate } from './sip/proxy/gate.js';
import { openDatabase, type Db } from './store/database.js';
import { licenseEnforcer, openInstallLedger } from './license-enforcement.js';
import { watchCommits } from './store/commit-watch.js';
import { startIdleRelease } from './store/idle-release-job.js';
import { formatIsoUtc } from './shared/iso-time.js';
import { LiveSnapshot } from './store/live-snapshot.js';
import { flowTokenKey } from './store/sip-keys.js';
import { logStoreState, StoreHealth } from './store/store-health.js';

/** A running sidecar, as `sipwarden serve` and the end-to-end tests hold it. */
export interface Sidecar {
  /** The embedded proxy's bound listeners (absent in drachtio mode). */
  readonly proxy: EmbeddedProxy | null;
  readonly live: LiveSnapshot;
  /** Whether the SIP path's writes (install claims and records) get into the store. */
  readonly storeHealth: StoreHealth;
  /** Metrics, readiness, the upstream ping and the admin listener. */
  readonly operations: Operations;
  readonly db: Db;
  readonly logger: Logger;
  /** Writes the coalesced install records (last seen, refused installs) now; resolves once tried. */
  flushRecords(): Promise<void>;
  /** The HEP capture (`capture.hep`), null when off. */
  readonly capture: SipCapture | null;
  /**
   * What SIGHUP does: reads the TLS certificate, key and CA files again and uses them for new
   * handshakes; established connections (and their calls) keep theirs. Files that cannot be used
   * are refused with an error line, and the running ones stay.
   */
  reload(): void;
  close(): Promise<void>;
}

export interface SidecarOptions {
  /** Injectable clock (ms since epoch) so tests never wait for real time. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  /**
   * Pragmas for the install writer's own connection. For tests that simulate a store that cannot
   * be written: `query_only = 1` (read-only), `max_page_count = N` (full disk).
   */
  readonly writerPragmas?: readonly string[];
  /** Where the logger writes when none is given (default: stdout, as pino does). */
  readonly logDestination?: DestinationStream;
}

/**
 * The loop's own connection only reads on the SIP path (snapshot reloads); its few writes (lifecycle
 * events, delivery state) run on timers and retry on the next tick, so it never waits for another
 * process's write lock: the event loop never waits on the store (issue 8, item 4).
 */
const LOOP_BUSY_TIMEOUT_MS = 0;

/**
 * The composition root: the only place where the config, the store, the live snapshot, the
 * enforcer and a transport adapter meet. Everything below receives what it needs as arguments.
 */
export async function startSidecar(config: Config, options: SidecarOptions = {}): Promise<Sidecar> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { app: 'sipwarden' } }, options.logDestination);
  const clock = options.clock ?? Date.now;
  // TLS files first: one that cannot be used is a configuration error, before anything is written.
  const tls = config.sip.mode === 'embedded' ? loadSipTls(config) : {};
  const db = openDatabase(config.database, { create: config.createDatabase });
  warnIfShared(config.database, logger);
  warnIfNoUpstreamListener(config, logger);

  const started = performance.now();
  const reloads = new ReloadStats();
  const reloadFailed = (err: unknown): void => {
    reloads.failed();
    logger.warn({ err }, 'license reload failed; deciding on the last good snapshot');
  };
  const live = new LiveSnapshot(db, {
    intervalMs: config.reload.intervalMs,
    onRefresh: (stale, ms) => {
      reloads.reloaded(ms);
      logger.info({ changedGroups: stale.changed.length, removedGroups: stale.removed.length, ms: round(ms) }, 'license data reloaded');
    },
    onError: reloadFailed,
  });
  logger.info({ database: config.database, ...live.index.stats(), ms: round(performance.now() - started) }, 'license snapshot loaded');
  live.start();
  db.pragma(`busy_timeout = ${LOOP_BUSY_TIMEOUT_MS}`);
  // A commit by the CLI is applied at once; the poll above is the fallback (e.g. on NFS).
  const commits = watchCommits(
    config.database,
    () => {
      try {
        live.refresh();
      } catch (err) {
        reloadFailed(err);
      }
    },
    { onError: (err) => logger.warn({ err }, `cannot watch the database for commits; CLI changes apply within ${config.reload.intervalMs} ms`) },
  );

  const idleMs = config.policy.releaseIdleInstallsAfter;
  const idle =
    idleMs === undefined
      ? null
      : startIdleRelease(config.database, {
          idleMs,
          clock,
          onReleased: (released) => {
            logger.info(
              { released: released.map((r) => ({ install: r.instanceId, number: r.number, group: r.rootGroup, lastSeen: formatIsoUtc(r.lastSeen) })) },
              'idle app installs released',
            );
            live.markDirty();
          },
          onError: (err) => logger.warn({ err }, 'releasing idle app installs failed; trying again in a second'),
        });

  const storeHealth = new StoreHealth(clock, (change) => logStoreState(logger, change));
  const ledger = openInstallLedger({
    database: config.database,
    policy: config.policy,
    live,
    health: storeHealth,
    logger,
    writerPragmas: options.writerPragmas ?? [],
  });
  const sip = config.sip;
  const operations = new Operations(config, { db, live, reloads, storeHealth, clock, logger });
  const capture = await openCapture(config, logger);
  let proxy: EmbeddedProxy | null = null;
  const enforcer = licenseEnforcer(
    config.policy,
    {
      live,
      ledger,
      clock,
      logger,
      observer: operations.decisions,
      ...(capture === null
        ? {}
        : { onDecision: (callId, line, origin) => capture.decision(callId, line, origin, proxy?.localEndpoint(origin.transport) ?? null) }),
    },
    {
      warnAgent: sip.advertisedHost ?? firstListenHost(config),
      refusalLinesPerSecond: config.log.refusalLinesPerSecond,
      rememberFlows: sip.mode === 'embedded',
    },
  );

  try {
    await ledger.ready();
  } catch (err) {
    await capture?.close();
    live.stop();
    await ledger.close();
    db.close();
    throw err;
  }

  let closeTransport: () => Promise<void> = async () => undefined;
  let notifications: Notifications | undefined;
  try {
    if (sip.mode === 'embedded') {
      if (tls.listener) logger.info({ certificate: tls.listener.certificate }, 'TLS certificate loaded');
      const gate: Gate = (request, ctx) =>
        enforcer.decide(request, {
          transport: ctx.transport,
          address: ctx.source.address,
          port: ctx.source.port,
          leg: ctx.direction,
          clientFlow: ctx.clientFlow,
        });
      proxy = await startEmbeddedProxy({
        listen: sip.listen,
        upstream: sip.upstream,
        ...(tls.listener ? { tls: tls.listener.context } : {}),
        ...(tls.upstream ? { upstreamTls: tls.upstream } : {}),
        gate,
        logger,
        recvBufferSize: sip.recvBufferSize,
        sendBufferSize: sip.sendBufferSize,
        connections: sip.tcp,
        overload: sip.overload,
        path: sip.path,
        forceRport: sip.forceRport,
        recordRouteMethods: sip.recordRouteMethods,
        maxForwards: sip.maxForwards,
        maxMessageSize: sip.maxMessageSize,
        notReady: () => operations.readiness.notReady(),
        ...(sip.advertisedHost ? { advertisedHost: sip.advertisedHost } : {}),
        // The key kept in the database, unless the operator pinned one (sidecars sharing no database).
        flowTokenKey: sip.flowTokenSecret ? Buffer.from(sip.flowTokenSecret, 'utf8') : flowTokenKey(db, clock()),
        ...(capture === null ? {} : { capture }),
      });
      const running = proxy;
      closeTransport = () => running.close();
      logger.info({ mode: 'embedded', listen: proxy.addresses, upstream: sip.upstream }, 'sipwarden serving');
    } else {
      // Loaded only in drachtio mode, so the embedded default never loads drachtio-srf.
      const { startDrachtioServe } = await import('./sip/drachtio/drachtio-serve.js');
      const drachtio = sip.drachtio;
      if (!drachtio?.secret) throw new Error('drachtio mode needs sip.drachtio.secret');
      const upstream = sip.upstream;
      if (upstream.transport === 'tls') throw new Error('drachtio mode cannot reach the upstream over TLS (drachtio-server does)');
      const served = await startDrachtioServe({
        drachtio: { host: drachtio.host, port: drachtio.port, secret: drachtio.secret },
        upstream: { host: upstream.host, port: upstream.port, transport: upstream.transport },
        enforcer,
        logger,
      });
      closeTransport = () => served.close();
      logger.info({ mode: 'drachtio', drachtio: { host: drachtio.host, port: drachtio.port }, upstream: sip.upstream }, 'sipwarden serving');
    }
    operations.attachProxy(proxy);
    await operations.start();
    const notify = config.notify;
    notifications = startNotifications(
      db,
      {
        webhooks: notify.webhooks.map((w) => w.url),
        secret: notify.secret?.reveal() ?? null,
        maxAgeHours: notify.maxAgeHours,
        retry: notify.retry,
        timeoutMs: notify.timeoutMs,
        tickMs: notify.tickMs,
      },
      {
        clock,
        logger,
        beforeSend: () => {
          try {
            live.refresh();
          } catch (err) {
            logger.warn({ err }, 'license reload before a webhook delivery failed');
          }
        },
      },
    );
  } catch (err) {
    await operations.stop();
    await closeTransport();
    await capture?.close();
    commits?.close();
    idle?.close();
    live.stop();
    await ledger.close();
    db.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    proxy,
    live,
    storeHealth,
    operations,
    db,
    logger,
    flushRecords: () => ledger.flush(),
    capture,
    reload() {
      const running = proxy;
      if (running === null || (config.sip.tls === undefined && config.sip.upstream.transport !== 'tls')) {
        logger.info('reload: no TLS files to read again');
        return;
      }
      try {
        const tls = loadSipTls(config);
        running.setTls(tls.listener?.context, tls.upstream);
        logger.info({ certificate: tls.listener?.certificate }, 'TLS files reloaded; new handshakes use them, established connections keep theirs');
      } catch (err) {
        logger.error({ err }, 'TLS reload refused; the running certificate stays');
      }
    },
    close() {
      closing ??= (async () => {
        await operations.stop();
        await closeTransport();
        await capture?.close();
        await notifications?.close();
        commits?.close();
        idle?.close();
        live.stop();
        await ledger.close();
        db.close();
      })();
      return closing;
    },
  };
}

/**
 * The TLS files of the embedded proxy, read and checked: the listener's certificate (TLS, WSS)
 * and how the upstream's is checked. A TlsFileError names the config key and the file.
 */
function loadSipTls(config: Config): { listener?: TlsCredentials; upstream?: ConnectionOptions } {
  const sip = config.sip;
  const named = <T>(key: string, read: () => T): T => {
    try {
      return read();
    } catch (err) {
      if (err instanceof TlsFileError) throw new TlsFileError(`${key}: ${err.message}`);
      throw err;
    }
  };
  const files = sip.tls;
  return {
    ...(files === undefined ? {} : { listener: named('sip.tls', () => loadTlsCredentials(files)) }),
    ...(sip.upstream.transport === 'tls' ? { upstream: named('sip.upstream.tls', () => upstreamTlsOptions(sip.upstream.tls, sip.upstream.host)) } : {}),
  };
}

/**
 * The HEP capture of `capture.hep`, or null when it is off. A collector that cannot be resolved
 * costs the capture, not the SIP service: the sidecar starts without it and says so.
 */
async function openCapture(config: Config, logger: Logger): Promise<SipCapture | null> {
  const hep = config.capture.hep;
  if (hep === null) return null;
  try {
    const sender = await HepSender.open({ host: hep.host, port: hep.port, maxInFlight: hep.maxInFlight, logger });
    logger.info({ collector: `${hep.host}:${hep.port}`, captureId: hep.id, nodeName: hep.nodeName }, 'HEP capture on');
    return new SipCapture(sender, { captureId: hep.id, authKey: hep.password?.reveal() ?? null, nodeName: hep.nodeName ?? null });
  } catch (err) {
    logger.error({ err, collector: `${hep.host}:${hep.port}` }, 'HEP capture collector unreachable; running without capture');
    return null;
  }
}

/** A database made before sipwarden created its files 0600 may still be readable by others. */
function warnIfShared(path: string, logger: Logger): void {
  if (path === ':memory:') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger.warn(
      { database: path, mode: mode.toString(8) },
      'the database is readable by other users; it holds token hashes and push tokens: chmod 600 it',
    );
  }
}

/**
 * A TCP or TLS upstream works without a listener of its own for requests from clients (the sidecar
 * dials it), but requests the SIP server starts — calls to clients by their Path, a BYE by
 * Record-Route — go to the address advertised for that transport, where nothing would listen
 * (Kamailio answers 477). Not an error: a deployment may only take calls from clients.
 */
function warnIfNoUpstreamListener(config: Config, logger: Logger): void {
  const transport = config.sip.upstream.transport;
  if (config.sip.mode !== 'embedded' || transport === 'udp' || config.sip.listen[transport] !== undefined) return;
  logger.warn(
    { upstream: `${transport}:${config.sip.upstream.host}:${config.sip.upstream.port}` },
    `sip.listen.${transport} is not set: requests the SIP server sends to clients (calls to them, a BYE from the far end) have nowhere to arrive; add sip.listen.${transport} on an address the SIP server can reach`,
  );
}

function firstListenHost(config: Config): string {
  const l = config.sip.listen;
  return l.udp?.host ?? l.tcp?.host ?? l.ws?.host ?? 'sipwarden';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
