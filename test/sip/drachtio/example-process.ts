import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNodeScript, type ServeProcess } from '../../e2e/serve-process.js';
import { REPO_ROOT } from '../../support/repo-root.js';

/** The middleware example that docs/drachtio.md shows, and where `npm run build` puts it. */
export const EXAMPLE_SOURCE = join(REPO_ROOT, 'examples', 'drachtio-middleware.ts');
export const EXAMPLE_JS = join(REPO_ROOT, 'dist', 'examples', 'drachtio-middleware.js');

/** Runs the example as an application runs (`node dist/examples/drachtio-middleware.js`), its settings in the environment. */
export function startExample(dir: string, env: Record<string, string>): ServeProcess {
  if (!existsSync(EXAMPLE_JS)) throw new Error(`${EXAMPLE_JS} is missing: run npm run build first`);
  return spawnNodeScript({ dir, name: 'example', script: EXAMPLE_JS, args: [], env: { ...process.env, ...env } });
}
