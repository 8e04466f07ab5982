import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * Issue 10: "docs/architecture.md matches the tree". The maintainer's documents name files and
 * folders; after a move they must not point at what is gone, and every source folder must have
 * its row in the architecture's layer table.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const DOCUMENTS = ['README.md', 'docs/architecture.md', 'docs/drachtio.md', 'test/support/README.md'];
/** A path in the repository as the documents write it (`dist/…` is built, not kept). */
const REPO_PATH = /`((?:src|test|scripts|examples|docs|config)\/[\w./-]*[\w/])`/g;

function pathsNamedIn(document: string): string[] {
  const text = readFileSync(join(ROOT, document), 'utf8');
  return [...text.matchAll(REPO_PATH)].map((m) => m[1] as string);
}

function folders(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`);
}

describe('the documents match the tree', () => {
  it.each(DOCUMENTS)('every repository path %s names exists', (document) => {
    const named = pathsNamedIn(document);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it("every source folder has its row in docs/architecture.md's layer table", () => {
    const table = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `src/'))
      .map((line) => /^\| `([^`]+)`/.exec(line)?.[1]);
    const sourceFolders = [...folders('src'), ...folders('src/sip')];
    expect(sourceFolders.length).toBeGreaterThan(10);
    expect(sourceFolders.filter((f) => !table.includes(f))).toEqual([]);
  });
});
