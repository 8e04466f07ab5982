import { Option } from '@commander-js/extra-typings';
import type { Config } from '../config/schema.js';
import { BadInputError } from './errors.js';

/** The variable that names the configuration file of `serve` and `check` when --config is not given. */
export const CONFIG_ENV = 'SIPWARDEN_CONFIG';

/** `--config FILE`, the same option (and default) for `serve` and `check`. */
export function configOption() {
  return new Option('--config <file>', 'JSON configuration file (see config/sipwarden.json); without it, the built-in defaults').env(
    CONFIG_ENV,
  );
}

/**
 * Loads and validates the configuration as `serve` does: every problem on its own line on stderr,
 * the last one as the error (exit 2). zod is loaded only here.
 */
export async function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv): Promise<Config> {
  const { loadConfig } = await import('../config/load-config.js');
  return reportingProblems(() => loadConfig(path, env));
}

/** Only the `policy` section, for `check`. */
export async function loadCliPolicy(path: string | undefined): Promise<Config['policy']> {
  const { loadPolicyConfig } = await import('../config/load-config.js');
  return reportingProblems(() => loadPolicyConfig(path));
}

async function reportingProblems<T>(load: () => T): Promise<T> {
  const { ConfigError } = await import('../config/load-config.js');
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems.slice(0, -1)) process.stderr.write(`sipwarden: ${err.source}: ${problem}\n`);
    throw new BadInputError(`${err.source}: ${err.problems.at(-1) ?? 'invalid configuration'}`);
  }
}
