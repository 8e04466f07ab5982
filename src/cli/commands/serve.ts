import { Option } from '@commander-js/extra-typings';
import { ENV_OVERRIDES } from '../../config/env-overrides.js';
import { configOption, loadCliConfig } from '../config-file.js';
import { BadInputError } from '../errors.js';
import { LOG_FORMATS } from '../log-lines.js';
import { whenStdoutCloses } from '../stdout-closed.js';
import type { Program } from '../root-command.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * `sipwarden serve`: the sidecar daemon. Runs until SIGINT/SIGTERM, then closes every socket and
 * the database before exiting.
 */
export function registerServeCommand(program: Program): void {
  program
    .command('serve')
    .description('run the SIP enforcement sidecar in front of the SIP server (embedded proxy by default)')
    .addOption(configOption())
    .addOption(new Option('--log-level <level>', 'override log.level').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'override log.format: json lines, or pretty (readable)').choices(LOG_FORMATS))
    .addHelpText(
      'after',
      `
SIGHUP reads the TLS certificate, key and CA files again: new handshakes use them, established
connections keep theirs (kill -HUP <pid>).

Needs no token. The database (config "database", SIPWARDEN_DB or an explicit --db) must exist
('sipwarden init' makes it) unless the configuration says "createDatabase": true, as the
quick-start config/sipwarden.json does: a mistyped path never starts a sidecar that allows
everything. It is migrated at start-up. The configuration is validated at start-up and every
problem is listed at once (exit 2).

Environment overrides:
${Object.entries(ENV_OVERRIDES)
  .map(([name, key]) => `  ${name.padEnd(29)} ${key}`)
  .join('\n')}

Without --config, the file named by SIPWARDEN_CONFIG ('check' reads the same one).

Logs are JSON lines on stdout, one per decision: refusals at info, allowed requests at debug.
--log-format pretty prints them readably; 'sipwarden logs' does the same for saved JSON lines.
Closing stdout (piping into head) stops the daemon as SIGTERM does, with exit 0.

Examples:
  sipwarden serve --config config/sipwarden.json --log-level debug --log-format pretty
  npm start -- --log-format pretty`,
    )
    .action(async (opts, cmd) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (opts.logLevel) env.SIPWARDEN_LOG_LEVEL = opts.logLevel;
      if (opts.logFormat) env.SIPWARDEN_LOG_FORMAT = opts.logFormat;
      // An explicit --db wins over the file; SIPWARDEN_DB is already an override in loadConfig.
      if (cmd.getOptionValueSourceWithGlobals('db') === 'cli') env.SIPWARDEN_DB = cmd.optsWithGlobals().db;
      const config = await loadCliConfig(opts.config, env);
      const [{ startSidecar }, { DatabaseMissingError }, { TlsFileError }, { logDestination }] = await Promise.all([
        import('../../main.js'),
        import('../../store/database.js'),
        import('../../sip/transports/tls-credentials.js'),
        import('../log-output.js'),
      ]);
      let sidecar;
      try {
        sidecar = await startSidecar(config, { logDestination: logDestination(config.log.format) });
      } catch (err) {
        // A certificate or key that cannot be used is a configuration problem (exit 2).
        if (err instanceof TlsFileError) throw new BadInputError(err.message);
        if (!(err instanceof DatabaseMissingError)) throw err;
        throw new BadInputError(
          `database ${err.path} does not exist; expected a database made by 'sipwarden --db ${err.path} init', or "createDatabase": true in the configuration to start with an empty one`,
        );
      }
      const running = sidecar;
      // SIGHUP reloads the TLS files (Kamailio: kamcmd tls.reload); without a handler Node would exit.
      process.on('SIGHUP', () => {
        running.logger.info({ signal: 'SIGHUP' }, 'reloading');
        running.reload();
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals | 'EPIPE'): void => {
          sidecar.logger.info({ signal }, 'stopping');
          sidecar.close().then(resolve, (err: unknown) => {
            sidecar.logger.error({ err }, 'error while stopping');
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // `serve | head`: nobody reads the logs any more; stop as a signal would, exit 0.
        whenStdoutCloses(() => stop('EPIPE'));
      });
    });
}
