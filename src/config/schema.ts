import { z } from 'zod';
import { parseDuration } from './duration.js';

/** host:port pair for a listener; port 0 asks the OS for a free port (tests). */
const listener = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
});

const transportName = z.enum(['udp', 'tcp', 'tls']);

const pemPath = z.string().min(1);

/**
 * The certificate of the TLS and WSS listeners (Kamailio tls.cfg `certificate`, `private_key`):
 * PEM files, read at start-up and again on SIGHUP. Paths are relative to the config file.
 */
const listenerTls = z.strictObject({
  certificate: pemPath,
  privateKey: pemPath,
  /** Intermediate CA certificates sent after the certificate, when its file does not hold them. */
  chain: pemPath.optional(),
});

/**
 * How the TLS connection to the upstream is checked (Kamailio tls.cfg client side: `ca_list`,
 * `verify_certificate`, `server_name`, and a client certificate for servers that require one).
 */
const upstreamTls = z
  .strictObject({
    /** CA certificates (PEM) the upstream's certificate must chain to; default the system's. */
    caList: pemPath.optional(),
    /** Refuse an upstream whose certificate does not verify or does not name it. Default true. */
    verifyCertificate: z.boolean().default(true),
    /** SNI and the name the certificate must carry; default the upstream host when it is a name. */
    serverName: z.string().min(1).optional(),
    /** A client certificate and key, for upstreams that require one (Kamailio require_certificate). */
    certificate: pemPath.optional(),
    privateKey: pemPath.optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.certificate === undefined) !== (t.privateKey === undefined)) {
      ctx.addIssue({ code: 'custom', input: t, path: [t.certificate === undefined ? 'certificate' : 'privateKey'], message: 'a client certificate needs both certificate and privateKey' });
    }
  });

export const DEFAULT_RECORD_ROUTE_METHODS = Object.freeze(['INVITE', 'SUBSCRIBE', 'REFER']);

/**
 * A method that may get our Record-Route: any SIP method token (RFC 3261 §25.1), upper-cased, but
 * not those that can start no dialog and are never routed by one (REGISTER keeps us in its path
 * with Path, see sip.path; ACK and CANCEL follow their INVITE).
 */
const recordRouteMethod = z
  .string()
  .regex(/^[A-Za-z0-9!%*_+`'~.-]+$/, { message: 'must be a SIP method name, e.g. INVITE' })
  .transform((m) => m.toUpperCase())
  .refine((m) => !['REGISTER', 'ACK', 'CANCEL'].includes(m), {
    message: 'REGISTER, ACK and CANCEL never get a Record-Route (a REGISTER keeps the sidecar in its path with Path, see sip.path)',
  });

/** sip.path: when REGISTERs get our Path (RFC 3327); see src/sip/proxy/path-mode.ts. */
const pathMode = z.enum(['always', 'supported', 'never']);

/** `30d`, `12h`, `90m`: at least a minute, as milliseconds. */
const idleDuration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null || ms < 60_000) {
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `must be a duration of at least a minute: a whole number and s, m, h or d, e.g. "30d" or "12h"; got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * Bounds on TCP and WebSocket connections, together (WebSocket rides on TCP, as in Kamailio, whose
 * `tcp_*` core parameters these follow). Defaults fit a fresh machine; see DEFAULT_STREAM_LIMITS.
 */
const tcpLimits = z.strictObject({
  /** Connections peers may hold open, all together (Kamailio tcp_max_connections). */
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Connections one IP address may hold open (Kamailio ≥ 5.8 tcp_accept_iplimit). */
  maxConnectionsPerSource: z.number().int().min(1).max(1_000_000).default(1024),
  /** Closed after this long without a whole message or a write (Kamailio tcp_connection_lifetime). */
  connectionLifetimeMs: z.number().int().min(1000).max(86_400_000).default(600_000),
  /** A message (and the first one, and the WebSocket handshake) must arrive whole within this (slowloris). */
  messageReadTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
  /** Bytes that may wait to be written to one connection before it is closed (Kamailio tcp_conn_wq_max). */
  connectionWriteQueueMax: z
    .number()
    .int()
    .min(65_536, { message: 'must hold at least one whole SIP message (65536 bytes)' })
    .max(64 * 1024 * 1024)
    .default(256 * 1024),
});
/**
 * Load shedding (see OverloadControl): past capacity, new REGISTERs and initial INVITEs are
 * refused with 503 and a random Retry-After, so that what is accepted is still served in time.
 */
const overload = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** The receive-queue wait to keep new requests under; well below T1 = 500 ms. */
    targetDelayMs: z.number().int().min(5).max(400).default(50),
    /** Bounds of the random Retry-After of the 503, in seconds. */
    retryAfter: z
      .strictObject({
        min: z.number().int().min(1).max(3600).default(5),
        max: z.number().int().min(1).max(3600).default(20),
      })
      .check((ctx) => {
        if (ctx.value.max < ctx.value.min) {
          ctx.issues.push({ code: 'custom', input: ctx.value, path: ['max'], message: `must not be below min (${ctx.value.min})`, continue: true });
        }
      })
      .default({ min: 5, max: 20 }),
  })
  .default({ enabled: true, targetDelayMs: 50, retryAfter: { min: 5, max: 20 } });

const TCP_DEFAULTS = {
  maxConnections: 10_000,
  maxConnectionsPerSource: 1024,
  connectionLifetimeMs: 600_000,
  messageReadTimeoutMs: 20_000,
  connectionWriteQueueMax: 256 * 1024,
};

/**
 * A secret that never prints: JSON, String() and util.inspect show `[redacted]`, so a config
 * object that ends up in a log line does not leak it. `reveal()` gives the value to its one user.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret([redacted])';
  }
}

/** The admin HTTP listener's default: loopback only, Kamailio-like port next to SIP's 5060. */
export const DEFAULT_ADMIN_LISTEN = Object.freeze({ host: '127.0.0.1', port: 9060 });

/**
 * The admin HTTP listener (/metrics, /healthz, /readyz, /status): separate from SIP, on loopback
 * unless `allowRemote` says otherwise, because it has no authentication and its metrics name
 * every project. `listen: null` turns it off.
 */
const adminSchema = z
  .strictObject({
    listen: z.union([z.null(), listener.extend({ port: z.number().int().min(0).max(65535).default(DEFAULT_ADMIN_LISTEN.port) })]).default(DEFAULT_ADMIN_LISTEN),
    /** Allows a listen host that is not a loopback address (a wildcard, an interface): say so on purpose. */
    allowRemote: z.boolean().default(false),
    /** Per-project licence series (used, limit, window): 6 per restricted project; false leaves only totals. */
    projectMetrics: z.boolean().default(true),
  })
  .superRefine((admin, ctx) => {
    const host = admin.listen?.host;
    if (host !== undefined && !admin.allowRemote && !isLoopbackHost(host)) {
      ctx.addIssue({
        code: 'custom',
        input: host,
        path: ['listen', 'host'],
        message: `${JSON.stringify(host)} is not a loopback address; the admin listener has no authentication and its metrics name every project. Expected 127.0.0.1 or ::1 (scrape through a local agent or a proxy), or set admin.allowRemote: true to expose it on purpose`,
      });
    }
  });

/** Loopback by literal address or the name localhost; anything else (0.0.0.0, ::, an interface, a name) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Readiness (/readyz, and the answer to an OPTIONS addressed to the sidecar itself): the database
 * readable, the licence snapshot checked against it lately, the upstream answering OPTIONS.
 */
const healthSchema = z.strictObject({
  /** Not ready when the snapshot has not been checked against the database for this long (reload.intervalMs polls it). */
  maxSnapshotAgeMs: z.number().int().min(1000).max(3_600_000).default(10_000),
  /**
   * The sidecar's own OPTIONS to the upstream (as Kamailio's dispatcher pings its destinations):
   * the upstream is down when a ping gets no final answer within `timeoutMs` or a 5xx/6xx. null: no
   * ping, and the upstream is left out of readiness.
   */
  upstreamPing: z
    .union([
      z.null(),
      z.strictObject({
        intervalMs: z.number().int().min(500).max(3_600_000).default(5000),
        timeoutMs: z.number().int().min(100).max(60_000).default(2000),
      }),
    ])
    .default({ intervalMs: 5000, timeoutMs: 2000 }),
});

export const DEFAULT_WEBHOOK_SECRET_ENV = 'SIPWARDEN_WEBHOOK_SECRET';

/** A push-gateway webhook: an absolute http(s) URL with a host. */
const webhookUrl = z.string().check((ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(ctx.value);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `must be an absolute http:// or https:// URL with a host, e.g. https://push.example.com/hooks/sipwarden; got ${JSON.stringify(ctx.value)}`,
      // Let the section's own checks run too, so every problem is listed at once.
      continue: true,
    });
  }
});

const DEFAULT_RETRY = { baseDelayMs: 1000, maxDelayMs: 300_000 };

/**
 * Lifecycle events and their delivery to the push gateway (DESIGN.md §3). The HMAC secret is read
 * from the environment variable named by `secretEnv`, never from the file.
 */
const notifySchema = z
  .strictObject({
    webhooks: z.array(z.strictObject({ url: webhookUrl })).default([]),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be the name of an environment variable' })
      .default(DEFAULT_WEBHOOK_SECRET_ENV),
    /** Set from the environment by loadConfig; the file may not carry it. */
    secret: z
      .string()
      .min(16, { message: 'the webhook secret must be at least 16 characters' })
      .transform((value) => new Secret(value))
      .optional(),
    /** An event not delivered within this many hours of being queued is marked dead. */
    maxAgeHours: z.number().positive().max(24 * 365).default(72),
    retry: z
      .strictObject({
        baseDelayMs: z.number().int().min(10).max(3_600_000).default(DEFAULT_RETRY.baseDelayMs),
        maxDelayMs: z.number().int().min(10).max(86_400_000).default(DEFAULT_RETRY.maxDelayMs),
      })
      .check((ctx) => {
        if (ctx.value.maxDelayMs < ctx.value.baseDelayMs) {
          ctx.issues.push({
            code: 'custom',
            input: ctx.value,
            path: ['maxDelayMs'],
            message: `must not be below baseDelayMs (${ctx.value.baseDelayMs})`,
            continue: true,
          });
        }
      })
      .default(DEFAULT_RETRY),
    /** Bound on one webhook POST. */
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** How often the scheduler and the deliverer look at the clock and the outbox; keep under 1 s. */
    tickMs: z.number().int().min(10).max(1000).default(250),
  })
  // superRefine (not check): it also runs when a field has a problem, so every problem is listed at once.
  .superRefine((n, ctx) => {
    const seen = new Set<string>();
    n.webhooks.forEach((w, i) => {
      if (seen.has(w.url)) ctx.addIssue({ code: 'custom', input: w.url, path: ['webhooks', i, 'url'], message: 'is listed twice' });
      seen.add(w.url);
    });
    if (n.webhooks.length > 0 && n.secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        input: n,
        path: ['secret'],
        message: `webhooks are configured but the environment variable ${n.secretEnv} is not set; expected the HMAC-SHA256 key shared with the push gateway (at least 16 characters)`,
      });
    }
  });

/**
 * SIP capture for Homer (HEPv3 over UDP), named as Kamailio's siptrace: `hep_capture_id` is `id`,
 * `auth_key` is `password`. Off unless `hep` is given.
 */
const hepCapture = z.strictObject({
  host: z.string().min(1),
  /** Homer's (heplify-server's) HEP port. */
  port: z.number().int().min(1).max(65535).default(9060),
  /** Capture agent id, shown in Homer (Kamailio hep_capture_id, default 1). */
  id: z.number().int().min(0).max(0xffffffff).default(1),
  /** HEP authentication key, checked by collectors configured with one (Kamailio auth_key). */
  password: z
    .string()
    .min(1)
    .transform((value) => new Secret(value))
    .optional(),
  /** Node name (HEP chunk 0x0013) shown beside the capture id. */
  nodeName: z.string().min(1).max(255).optional(),
  /** HEP is sent over UDP only, so that capture can never hold up SIP. */
  transport: z.literal('udp').default('udp'),
  /** Packets waiting for the socket before capture drops rather than queue more. */
  maxInFlight: z.number().int().min(1).max(1_000_000).default(1024),
});

/**
 * The whole configuration of `sipwarden serve`. Names follow what telephony engineers know from
 * Kamailio (listen, upstream as the outbound proxy, max buffer). Unknown keys are errors, so a
 * typo is caught at start-up rather than silently ignored.
 */
export const configSchema = z.strictObject({
  database: z.string().min(1).default('./sipwarden.db'),
  /**
   * Create (and migrate) an empty database when `database` does not exist. Off by default: a
   * mistyped path would otherwise start a sidecar with no licences that allows everything. The
   * quick-start config turns it on; production databases are made with `sipwarden init`.
   */
  createDatabase: z.boolean().default(false),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** Refusal lines written per second at most; the rest are counted in the next line (a flood is not a log flood). */
      refusalLinesPerSecond: z.number().int().min(1).max(100_000).default(200),
      /** `json`: pino's JSON lines (for jq and log collectors); `pretty`: readable lines (`serve` only). */
      format: z.enum(['json', 'pretty']).default('json'),
    })
    .default({ level: 'info', refusalLinesPerSecond: 200, format: 'json' }),
  sip: z
    .strictObject({
      mode: z.enum(['embedded', 'drachtio']).default('embedded'),
      listen: z
        .strictObject({
          udp: listener.optional(),
          tcp: listener.optional(),
          ws: listener.optional(),
          /** SIP over TLS (RFC 3261 §26), Kamailio `listen=tls:…`; usually port 5061. Needs sip.tls. */
          tls: listener.optional(),
          /** Secure WebSocket (RFC 7118), Kamailio's WSS on a TLS listener; usually port 443 or 8443. Needs sip.tls. */
          wss: listener.optional(),
        })
        .default({ udp: { host: '127.0.0.1', port: 5060 }, tcp: { host: '127.0.0.1', port: 5060 } }),
      /** Host (and port) written into Via/Record-Route when it differs from the listen address. */
      advertisedHost: z.string().min(1).optional(),
      upstream: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(5060),
        transport: transportName.default('udp'),
        /** With transport `tls`: how the upstream's certificate is checked. */
        tls: upstreamTls.optional(),
      }),
      /** Certificate and key of the TLS and WSS listeners. */
      tls: listenerTls.optional(),
      /**
       * Key of the flow tokens in Record-Route/Path (at least 16 characters). Set it (or
       * SIPWARDEN_FLOW_TOKEN_SECRET) so that dialogs and registrations survive a restart; by default
       * a random key is made at each start.
       */
      flowTokenSecret: z.string().min(16).optional(),
      /**
       * When to add Path to REGISTERs (RFC 3327) so the registrar routes calls to the client back
       * through us (src/sip/proxy/path-mode.ts). The booleans of earlier versions still read: true is
       * `always`, false `never`.
       */
      path: z
        .union([pathMode, z.boolean().transform((on): z.output<typeof pathMode> => (on ? 'always' : 'never'))])
        .default('always'),
      /**
       * Fill in `rport` and `received` in a UDP client's Via and answer to the source port even when
       * the client did not ask (RFC 3581), as Kamailio's `force_rport()`: for clients behind NAT
       * that do not send `;rport`. Stream transports always get it.
       */
      forceRport: z.boolean().default(false),
      /** Initial requests that get our Record-Route (Kamailio `record_route()` in the script), so the dialog's later requests come back through us. */
      recordRouteMethods: z.array(recordRouteMethod).min(1).default([...DEFAULT_RECORD_ROUTE_METHODS]),
      /** RFC 3261 §16.6 step 3, as Kamailio's maxfwd module: the value added when absent, and a cap. */
      maxForwards: z
        .strictObject({
          /** Added to a request that has no Max-Forwards (Kamailio `mf_process_maxfwd_header(70)`). */
          initial: z.number().int().min(1).max(255).default(70),
          /** A larger value is lowered to this before it is decremented (Kamailio maxfwd `max_limit`). */
          limit: z.number().int().min(1).max(255).default(255),
        })
        .default({ initial: 70, limit: 255 }),
      /** The largest SIP message accepted, in bytes: a request over it is answered 513 (RFC 3261 §21.5.7), anything else dropped. */
      maxMessageSize: z.number().int().min(1500).max(65_535).default(65_535),
      /** UDP socket buffers in bytes; the knee of every UDP path depends on them (DESIGN.md §5). */
      recvBufferSize: z.number().int().min(65536).default(4 * 1024 * 1024),
      sendBufferSize: z.number().int().min(65536).default(4 * 1024 * 1024),
      tcp: tcpLimits.default(TCP_DEFAULTS),
      overload,
      drachtio: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(1).max(65535).default(9022),
          secret: z.string().min(1).optional(),
        })
        .optional(),
    })
    .check((ctx) => {
      const sip = ctx.value;
      if (sip.mode === 'embedded' && !sip.listen.udp && !sip.listen.tcp && !sip.listen.ws && !sip.listen.tls && !sip.listen.wss) {
        ctx.issues.push({
          code: 'custom',
          input: sip.listen,
          path: ['listen'],
          message: 'embedded mode needs at least one of listen.udp, listen.tcp, listen.ws, listen.tls, listen.wss',
        });
      }
      for (const secure of ['tls', 'wss'] as const) {
        if (sip.listen[secure] !== undefined && sip.tls === undefined) {
          ctx.issues.push({
            code: 'custom',
            input: sip.listen[secure],
            path: ['tls'],
            message: `listen.${secure} needs sip.tls: {certificate, privateKey} (PEM files)`,
            continue: true,
          });
        }
      }
      // UDP has no connection to answer on: the upstream's responses and requests come back to the
      // UDP listener our Via and Record-Route name (RFC 3261 §18.1.1, §18.2.2), so a UDP upstream
      // needs one. TCP and TLS start without one: the sidecar dials the upstream and reads the
      // answers on that connection; requests the upstream starts (calls to clients) need a
      // listener of that transport, which the README says (Which listener the upstream needs).
      if (sip.mode === 'embedded' && sip.upstream.transport === 'udp' && sip.listen.udp === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: sip.upstream.transport,
          path: ['upstream', 'transport'],
          message: 'upstream.transport "udp" (the default) needs listen.udp, where the upstream\'s answers arrive; add listen.udp or set upstream.transport to "tcp" or "tls"',
          continue: true,
        });
      }
      if (sip.upstream.tls !== undefined && sip.upstream.transport !== 'tls') {
        ctx.issues.push({
          code: 'custom',
          input: sip.upstream.tls,
          path: ['upstream', 'tls'],
          message: `upstream.tls applies to upstream.transport "tls" (it is "${sip.upstream.transport}")`,
        });
      }
      if (sip.mode === 'drachtio' && (sip.upstream.transport === 'tls' || sip.listen.tls || sip.listen.wss)) {
        ctx.issues.push({
          code: 'custom',
          input: sip.upstream,
          path: ['upstream', 'transport'],
          message: 'TLS and WSS are served by the embedded proxy; in drachtio mode drachtio-server terminates TLS itself',
        });
      }
      if (sip.mode === 'drachtio' && !sip.drachtio?.secret) {
        ctx.issues.push({
          code: 'custom',
          input: sip.drachtio,
          path: ['drachtio', 'secret'],
          message: 'drachtio mode needs drachtio.secret (or SIPWARDEN_DRACHTIO_SECRET)',
        });
      }
    }),
  policy: z
    .strictObject({
      unknownNumbers: z.enum(['allow', 'reject']).default('allow'),
      registerOutsideWindow: z.enum(['reject', 'allow-sip-devices']).default('reject'),
      checkCalleeWindow: z.boolean().default(true),
      /**
       * Whether the SIP server tells AoRs apart by domain (Kamailio usrloc `use_domain`). False:
       * it binds `1001@anything` as 1001, so sipwarden ignores domains too and enforces every
       * request whatever its domain.
       */
      useDomain: z.boolean().default(false),
      /** With useDomain: only requests for these SIP domains are enforced; others pass. Empty = all. */
      servedDomains: z.array(z.string().min(1)).default([]),
      /** A User-Agent regular expression that marks the mobile application (besides RFC 8599 params). */
      mobileAppUserAgent: z
        .string()
        .min(1)
        .refine(
          (s) => {
            try {
              new RegExp(s);
              return true;
            } catch {
              return false;
            }
          },
          { message: 'must be a valid regular expression' },
        )
        .optional(),
      /**
       * What to do when enforcement itself faults: pass requests, or 503 with Retry-After. A new
       * app install's licence that the store cannot record is never granted, whichever is set.
       */
      onInternalError: z.enum(['fail-open', 'fail-closed']).default('fail-open'),
      /**
       * enforce: refusals are answered 403. shadow: each refusal is logged ("would refuse") and
       * counted with its reason, and the request is forwarded, to roll enforcement out safely. A
       * project's own setting (`licenses set P --enforcement`) wins over this.
       */
      mode: z.enum(['enforce', 'shadow']).default('enforce'),
      /** How long a new app install's claim waits for the store's write lock; then 503 with Retry-After. */
      claimTimeoutMs: z.number().int().min(10).max(30_000).default(2000),
      /**
       * Give back the licence of an app install that has not registered (or de-registered) for
       * this long (DESIGN.md §1), e.g. "30d"; absent: never. Keep it well above the apps'
       * registration interval. Parsed to milliseconds.
       */
      releaseIdleInstallsAfter: idleDuration.optional(),
    })
    .check((ctx) => {
      const policy = ctx.value;
      if (!policy.useDomain && policy.servedDomains.length > 0) {
        ctx.issues.push({
          code: 'custom',
          input: policy.servedDomains,
          path: ['servedDomains'],
          message:
            'servedDomains needs useDomain: true; a SIP server that ignores domains (Kamailio usrloc use_domain 0) binds 1001@any-domain as 1001, so sipwarden must enforce every domain. Set useDomain: true only if the server keeps domains apart, or remove servedDomains',
        });
      }
    })
    .default({
      unknownNumbers: 'allow',
      registerOutsideWindow: 'reject',
      checkCalleeWindow: true,
      useDomain: false,
      servedDomains: [],
      onInternalError: 'fail-open',
      mode: 'enforce',
      claimTimeoutMs: 2000,
    }),
  reload: z
    .strictObject({
      /** How often the daemon looks for CLI changes (PRAGMA data_version); must keep under 1 s. */
      intervalMs: z.number().int().min(10).max(1000).default(200),
    })
    .default({ intervalMs: 200 }),
  capture: z
    .strictObject({
      hep: hepCapture.nullable().default(null),
    })
    .default({ hep: null }),
  admin: adminSchema.default({ listen: DEFAULT_ADMIN_LISTEN, allowRemote: false, projectMetrics: true }),
  health: healthSchema.default({ maxSnapshotAgeMs: 10_000, upstreamPing: { intervalMs: 5000, timeoutMs: 2000 } }),
  notify: notifySchema.default({
    webhooks: [],
    secretEnv: DEFAULT_WEBHOOK_SECRET_ENV,
    maxAgeHours: 72,
    retry: DEFAULT_RETRY,
    timeoutMs: 5000,
    tickMs: 250,
  }),
})
  .superRefine((config, ctx) => {
    if (config.sip.mode === 'drachtio' && config.capture.hep !== null) {
      ctx.addIssue({
        code: 'custom',
        input: config.capture.hep,
        path: ['capture', 'hep'],
        message: 'SIP capture is done by the embedded proxy; in drachtio mode drachtio-server captures SIP itself (its homer settings): remove capture.hep',
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
