import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo-root.js';

/**
 * `npm run lint` runs scripts/check-dependencies.mjs (dependency-cruiser with the rules in
 * .dependency-cruiser.mjs). These cases run the same command on small trees that break one rule
 * each, so a rule that stopped matching (a renamed folder, a resolver that lost `.js` → `.ts`)
 * fails here instead of letting every import through.
 */
const CHECKER = join(REPO_ROOT, 'scripts', 'check-dependencies.mjs');
const TIMEOUT_MS = 120_000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function check(baseDir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [CHECKER, '--base', baseDir], { encoding: 'utf8', timeout: TIMEOUT_MS });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A tree with the repository's tsconfig and the given files under it. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-layers-'));
  dirs.push(dir);
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] }, include: ['src'] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const CLEAN = {
  'src/policy/decision.ts': 'export type Decision = "allow" | "deny";\n',
  'src/store/database.ts': 'import type { Decision } from "../policy/decision.js";\nexport const first: Decision = "allow";\n',
  'src/sip/gate.ts': 'import type { Decision } from "../policy/decision.js";\nexport const gate = (d: Decision) => d;\n',
  'src/notify/outbox.ts': 'import { first } from "../store/database.js";\nexport const again = first;\n',
};

describe('layer rules (npm run lint)', () => {
  it('pass on the repository', { timeout: TIMEOUT_MS }, () => {
    const { status, output } = check(REPO_ROOT);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it('pass on a small tree that keeps the arrows one-way', { timeout: TIMEOUT_MS }, () => {
    const { status, output } = check(tree(CLEAN));
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it('fail on each forbidden import, each reported by its rule', { timeout: TIMEOUT_MS }, () => {
    const dir = tree({
      ...CLEAN,
      // the policy imports nothing of ours
      'src/policy/rule.ts': 'import { first } from "../store/database.js";\nexport const rule = first;\n',
      // the store knows no adapter, not even a type of one
      'src/store/ledger.ts': 'import type { gate } from "../sip/gate.js";\nexport type Gate = typeof gate;\n',
      // notify → store, never the other way
      'src/store/events.ts': 'import { again } from "../notify/outbox.js";\nexport const events = again;\n',
      // no cycle, even inside one layer and through a type
      'src/store/rows.ts': 'import { MAX } from "./limits.js";\nexport const ROWS = MAX;\n',
      'src/store/limits.ts': 'import type { ROWS } from "./rows.js";\nexport const MAX = 3;\nexport type Rows = typeof ROWS;\n',
      // the lifecycle rules are pure
      'src/lifecycle/event-id.ts': 'import { randomUUID } from "node:crypto";\nexport const newId = randomUUID;\n',
      // an import that does not resolve would slip past every rule
      'src/sip/proxy.ts': 'import { gone } from "../policy/gone.js";\nexport const proxy = gone;\n',
      // inside src/sip: message parsing knows no transport, and only the drachtio adapter loads drachtio
      'src/sip/transports/flow.ts': 'export type TransportName = "udp";\n',
      'src/sip/message/size.ts': 'import type { TransportName } from "../transports/flow.js";\nexport type T = TransportName;\n',
      'src/sip/drachtio/srf.ts': 'export const srf = 1;\n',
      'src/sip/enforcement/enforcer.ts': 'import { srf } from "../drachtio/srf.js";\nexport const e = srf;\n',
    });
    const { status, output } = check(dir);
    expect(output).toContain('policy-imports-only-itself: src/policy/rule.ts → src/store/database.ts');
    expect(output).toContain('store-imports-only-lifecycle-policy-shared: src/store/ledger.ts → src/sip/gate.ts');
    expect(output).toContain('store-imports-only-lifecycle-policy-shared: src/store/events.ts → src/notify/outbox.ts');
    expect(output).toMatch(/no-circular: src\/store\/(rows|limits)\.ts → /);
    expect(output).toContain('pure-layers-do-no-io: src/lifecycle/event-id.ts → crypto');
    expect(output).toContain('imports-resolve: src/sip/proxy.ts → ../policy/gone.js');
    expect(output).toContain('sip-message-is-the-base: src/sip/message/size.ts → src/sip/transports/flow.ts');
    expect(output).toContain('only-drachtio-loads-drachtio: src/sip/enforcement/enforcer.ts → src/sip/drachtio/srf.ts');
    expect(output).toContain('sip-enforcement-knows-the-gate-only: src/sip/enforcement/enforcer.ts → src/sip/drachtio/srf.ts');
    expect(output).toMatch(/x 9 dependency violations/);
    expect(status).toBe(1);
  });
});
