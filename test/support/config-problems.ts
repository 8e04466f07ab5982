import { ConfigError } from '../../src/config/load-config.js';

/** The problems a config call reports; throws when it reports none (the case expected an error). */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
