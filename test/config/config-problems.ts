import { ConfigError } from '../../src/config/load-config.js';

/** The problems of the ConfigError that `fn` throws (it must throw one). */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
