import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServeProcess } from '../../e2e/serve-process.js';
import { freePort } from '../../support/ports.js';
import { REPO_ROOT } from '../../support/repo-root.js';
import { makeTempDir } from '../../support/temp-dirs.js';
import { tempDb, type TempDb } from '../../store/temp-db.js';
import { EXAMPLE_SOURCE, startExample } from './example-process.js';
import { FakeDrachtioServer } from './fake-drachtio-server.js';

/**
 * The middleware example that docs/drachtio.md shows, run as an application runs it: it must stop
 * on SIGTERM, exit 0 with nothing on stderr, whether drachtio-server is there or not. The drachtio
 * end-to-end suite runs it against a real drachtio-server too.
 */
const STOP_GRACE_MS = 5000;

/** The TypeScript block under the docs' middleware heading. */
function documentedExample(): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'drachtio.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## The middleware in an existing drachtio application'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/drachtio.md has no ```ts block under its middleware heading');
  return block;
}

describe('the documented drachtio middleware example', () => {
  let db: TempDb;
  let example: ServeProcess | undefined;
  let fake: FakeDrachtioServer | undefined;

  beforeEach(() => {
    db = tempDb('sipwarden-example-');
  });
  afterEach(async () => {
    await example?.stop(STOP_GRACE_MS);
    example = undefined;
    await fake?.close();
    fake = undefined;
    db.close();
  });

  it('is the file the docs show, word for word', () => {
    expect(documentedExample()).toBe(readFileSync(EXAMPLE_SOURCE, 'utf8'));
  });

  it('stops cleanly on SIGTERM while drachtio-server is down', async () => {
    const port = await freePort(); // nothing listens there
    example = startExample(makeTempDir('example'), { SIPWARDEN_DB: db.path, DRACHTIO_PORT: String(port) });
    // Its first line is a warning about the refused connection: it is up and trying.
    await example.waitForLine((l) => l.level === 40, 'a warning about the refused connection');
    expect(await example.stop(STOP_GRACE_MS)).toEqual({ code: 0, signal: null });
    expect(example.stderr()).toBe('');
    expect(example.lines().at(-1)).toMatchObject({ msg: 'drachtio connection closed' });
  });

  it('routes REGISTER and INVITE when connected, and stops cleanly on SIGTERM', async () => {
    fake = await FakeDrachtioServer.start({ secret: 'cymru' });
    const server = fake;
    example = startExample(makeTempDir('example'), { SIPWARDEN_DB: db.path, DRACHTIO_PORT: String(server.port) });
    const routes = () => server.commands.filter((c) => c.verb === 'route').map((c) => c.args[0]);
    await server.until(() => routes().length >= 2, 'its routes', 15_000);
    expect([...routes()].sort()).toEqual(['invite', 'register']);
    expect(await example.stop(STOP_GRACE_MS)).toEqual({ code: 0, signal: null });
    expect(example.stderr()).toBe('');
    expect(server.open).toBe(0);
  });
});
