import { Option, type Command } from 'commander';
import { ENV_OVERRIDES } from '../../config/env-overrides.js';
import { BadInputError } from '../errors.js';

interface ServeOptions {
  readonly config?: string;
  readonly logLevel?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * `sipwarden serve`: the sidecar daemon. Runs until SIGINT/SIGTERM, then closes every socket and
 * the database before exiting.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the SIP enforcement sidecar in front of the SIP server (embedded proxy by default)')
    .option('--config <file>', 'JSON configuration file (see config/sipwarden.json)')
    .addOption(new Option('--log-level <level>', 'override log.level').choices(LOG_LEVELS))
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

Logs are JSON lines on stdout, one per decision: refusals at info, allowed requests at debug.
Readable tail:  sipwarden serve --config config/sipwarden.json | npx pino-pretty

Example:
  sipwarden serve --config config/sipwarden.json --log-level debug`,
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const { loadConfig, ConfigError } = await import('../../config/load-config.js');
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (opts.logLevel) env.SIPWARDEN_LOG_LEVEL = opts.logLevel;
      // An explicit --db wins over the file; SIPWARDEN_DB is already an override in loadConfig.
      if (cmd.optsWithGlobals<{ db?: string }>().db !== undefined && cmd.getOptionValueSourceWithGlobals('db') === 'cli') {
        env.SIPWARDEN_DB = cmd.optsWithGlobals<{ db: string }>().db;
      }
      let config;
      try {
        config = loadConfig(opts.config, env);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const problem of err.problems.slice(0, -1)) process.stderr.write(`sipwarden: ${err.source}: ${problem}\n`);
        throw new BadInputError(`${err.source}: ${err.problems.at(-1) ?? 'invalid configuration'}`);
      }
      const [{ startSidecar }, { DatabaseMissingError }, { TlsFileError }] = await Promise.all([
        import('../../main.js'),
        import('../../store/database.js'),
        import('../../sip/tls-credentials.js'),
      ]);
      let sidecar;
      try {
        sidecar = await startSidecar(config);
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
        const stop = (signal: NodeJS.Signals): void => {
          sidecar.logger.info({ signal }, 'stopping');
          sidecar.close().then(resolve, (err: unknown) => {
            sidecar.logger.error({ err }, 'error while stopping');
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
