import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo-root.js';

/**
 * The README's "Inside a drachtio-srf application" block, type-checked as an application would
 * compile it: `import { createSipwarden } from 'sipwarden'` resolved through package.json
 * `exports` to the built declarations (npm test builds first). The folder sits inside the
 * repository so that the package name resolves to this package (Node.js self-reference).
 */
const WORK_DIR = join(REPO_ROOT, '.tmp', 'readme-example');
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TIMEOUT_MS = 120_000;

afterAll(() => rmSync(WORK_DIR, { recursive: true, force: true }));

function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Inside a drachtio-srf application'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no ```ts block under "Inside a drachtio-srf application"');
  return block;
}

/** Compiles `source` as the application's only file; returns tsc's exit status and diagnostics. */
function typecheck(name: string, source: string): { status: number | null; output: string } {
  const dir = join(WORK_DIR, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.ts'), source);
  const tsconfig = {
    compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], noEmit: true, skipLibCheck: true },
    files: ['app.ts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const run = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: TIMEOUT_MS });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("the README's drachtio-srf example", () => {
  it('compiles against the package entry', { timeout: TIMEOUT_MS }, () => {
    const { status, output } = typecheck('as-documented', readmeExample());
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('is typed: a misspelt policy value does not compile', { timeout: TIMEOUT_MS }, () => {
    const example = readmeExample();
    expect(example).toContain("unknownNumbers: 'reject'");
    const { status, output } = typecheck('misspelt', example.replace("unknownNumbers: 'reject'", "unknownNumbers: 'rejected'"));
    expect(output).toMatch(/app\.ts\(\d+,\d+\): error TS\d+: Type '"rejected"' is not assignable to type '"allow" \| "reject" \| undefined'/);
    expect(status).not.toBe(0);
  });
});
