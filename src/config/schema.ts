import { z } from 'zod';

/** host:port pair for a listener; port 0 asks the OS for a free port (tests). */
const listener = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
});

const transportName = z.enum(['udp', 'tcp']);

/**
 * The whole configuration of `sipwarden serve`. Names follow what telephony engineers know from
 * Kamailio (listen, upstream as the outbound proxy, max buffer). Unknown keys are errors, so a
 * typo is caught at start-up rather than silently ignored.
 */
export const configSchema = z.strictObject({
  database: z.string().min(1).default('./sipwarden.db'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
  sip: z
    .strictObject({
      mode: z.enum(['embedded', 'drachtio']).default('embedded'),
      listen: z
        .strictObject({
          udp: listener.optional(),
          tcp: listener.optional(),
          ws: listener.optional(),
        })
        .default({ udp: { host: '127.0.0.1', port: 5060 }, tcp: { host: '127.0.0.1', port: 5060 } }),
      /** Host (and port) written into Via/Record-Route when it differs from the listen address. */
      advertisedHost: z.string().min(1).optional(),
      upstream: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(5060),
        transport: transportName.default('udp'),
      }),
      /**
       * Key of the flow tokens in Record-Route/Path (at least 16 characters). Set it (or
       * SIPWARDEN_FLOW_TOKEN_SECRET) so that dialogs and registrations survive a restart; by default
       * a random key is made at each start.
       */
      flowTokenSecret: z.string().min(16).optional(),
      /** Add Path to REGISTERs (RFC 3327) so the registrar routes calls to the client back through us. */
      path: z.boolean().default(true),
      /** UDP socket buffers in bytes; the knee of every UDP path depends on them (DESIGN.md §5). */
      recvBufferSize: z.number().int().min(65536).default(4 * 1024 * 1024),
      sendBufferSize: z.number().int().min(65536).default(4 * 1024 * 1024),
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
      if (sip.mode === 'embedded' && !sip.listen.udp && !sip.listen.tcp && !sip.listen.ws) {
        ctx.issues.push({
          code: 'custom',
          input: sip.listen,
          path: ['listen'],
          message: 'embedded mode needs at least one of listen.udp, listen.tcp, listen.ws',
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
      /** When non-empty, only requests for these SIP domains are enforced; others pass. */
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
      /** What to do when the sidecar itself is in trouble: pass requests, or 503 with Retry-After. */
      onInternalError: z.enum(['fail-open', 'fail-closed']).default('fail-open'),
    })
    .default({
      unknownNumbers: 'allow',
      registerOutsideWindow: 'reject',
      checkCalleeWindow: true,
      servedDomains: [],
      onInternalError: 'fail-open',
    }),
  reload: z
    .strictObject({
      /** How often the daemon looks for CLI changes (PRAGMA data_version); must keep under 1 s. */
      intervalMs: z.number().int().min(10).max(1000).default(200),
    })
    .default({ intervalMs: 200 }),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
