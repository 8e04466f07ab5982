import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The package version, from sipwarden's package.json above this file (src/ops in tests,
 * dist/src/ops when built, also in the Docker image); "unknown" when none is found.
 */
export function sipwardenVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'sipwarden' && typeof pkg.version === 'string') {
        cached = pkg.version;
        break;
      }
    } catch {
      // Not there: try one level up.
    }
  }
  return cached;
}
