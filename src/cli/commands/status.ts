import { BadInputError, CliError, EXIT } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { renderStatus } from '../status-view.js';
import type { Program } from '../root-command.js';

/** A status request that hangs (a stuck daemon) must not hang the engineer's shell. */
const STATUS_TIMEOUT_MS = 5000;

/**
 * `sipwarden status`: what a running `sipwarden serve` says about itself, on one screen, read from
 * its admin listener's `/status` (the same checks as /readyz, the same counters as /metrics).
 */
export function registerStatusCommand(program: Program): void {
  program
    .command('status')
    .description("one screen on a running sidecar: readiness, upstream, traffic, decisions, licences, outbox (from its admin listener)")
    .option('--config <file>', 'the configuration `serve` runs with: its admin.listen is asked')
    .option('--url <url>', 'the admin listener to ask, e.g. http://127.0.0.1:9060 (instead of --config)')
    .option('--json', 'the report as JSON')
    .addHelpText(
      'after',
      `
Needs no token (the admin listener has no authentication; it listens on loopback by default).
Without --url the address is admin.listen of --config (default 127.0.0.1:9060). Exit 0 when the
sidecar answered (ready or not: the report says), 1 when it could not be reached.

Example:
  sipwarden status --config /etc/sipwarden/sipwarden.json`,
    )
    .action(async (opts) => {
      const base = opts.url !== undefined ? adminUrlFromArgument(opts.url) : await adminUrlFromConfig(opts.config);
      const report = await fetchStatus(base);
      if (opts.json) printJson(report);
      else for (const line of renderStatus(report, base)) printLine(line);
    });
}

function adminUrlFromArgument(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadInputError(`--url: ${JSON.stringify(url)} is not a URL; expected e.g. http://127.0.0.1:9060`);
  }
  if (parsed.protocol !== 'http:') throw new BadInputError(`--url: expected an http:// URL, got ${JSON.stringify(url)}`);
  return parsed.origin;
}

async function adminUrlFromConfig(file: string | undefined): Promise<string> {
  const { loadConfig, ConfigError } = await import('../../config/load-config.js');
  const { hostForUrl } = await import('../../ops/admin-server.js');
  let listen;
  try {
    listen = loadConfig(file, process.env).admin.listen;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new BadInputError(`${err.source}: ${err.problems.join('; ')}`);
  }
  if (listen === null) {
    throw new BadInputError('the admin listener is off (admin.listen: null): set admin.listen in the configuration, or pass --url');
  }
  // A wildcard listen address is reached on loopback from the same box.
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${hostForUrl(host)}:${listen.port}`;
}

async function fetchStatus(base: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new CliError(`no sidecar answered at ${base}/status (${cause}); is 'sipwarden serve' running with this admin.listen?`, EXIT.failure);
  }
  if (res.status !== 200) throw new CliError(`${base}/status answered ${res.status}; expected 200 from a sipwarden admin listener`, EXIT.failure);
  return res.json();
}
