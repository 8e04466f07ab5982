import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning, oneErrorLine } from './cli-harness.js';
import { seedInstallation } from './seed.js';

let source: CliWorld;
let exported: string;
beforeAll(async () => {
  source = await new CliWorld().init();
  await seedInstallation(source);
  await source.operator('carol', ['licenses:edit', 'users:edit']);
  await source.ok(['licenses', 'set', 'Harbour', '--numbers', '5', '--remind-days', '14']);
  exported = await source.ok(['export']);
}, 60_000);
afterAll(() => {
  killRunning();
  source.remove();
});

// Each test runs several CLI processes, one after the other: 60 s is a hang guard on a loaded box.
describe('export / import', { timeout: 60_000 }, () => {
  it('exports the whole configuration without tokens', () => {
    const doc = JSON.parse(exported) as {
      format: string;
      groups: { name: string; licenses?: unknown }[];
      users: unknown[];
      numbers: { number: string }[];
      operators: { name: string; permissions: string[] }[];
    };
    expect(doc.format).toBe('sipwarden-config');
    expect(doc.groups.map((g) => [g.name, g.licenses !== undefined])).toEqual([
      ['Sunrise', true],
      ['Block A', false],
      ['Harbour', true],
    ]);
    expect(doc.numbers.map((n) => n.number)).toEqual(['1001', '2001', '2002']);
    expect(doc.operators).toEqual([
      { name: 'admin', permissions: ['groups:edit', 'licenses:edit', 'operators:edit', 'users:edit'] },
      { name: 'carol', permissions: ['licenses:edit', 'users:edit'] },
    ]);
    expect(exported).not.toContain(source.adminToken);
    expect(exported).not.toMatch(/token|hash/i);
  });

  it('round-trips into a fresh database: the new export is identical', async () => {
    const target = await new CliWorld().init();
    try {
      const file = join(target.dir, 'backup.json');
      writeFileSync(file, exported);
      const summary = await target.json<{ groups: number; numbers: number; operatorsCreated: { name: string; token: string }[] }>(['import', file]);
      expect(summary).toMatchObject({ groups: 3, users: 2, numbers: 3, operatorsUpdated: [] });
      expect(summary.operatorsCreated.map((o) => o.name)).toEqual(['carol']);
      expect(await target.ok(['export'])).toBe(exported);
      // The new operator's token works, with the permissions of the file.
      const carol = summary.operatorsCreated[0]?.token ?? '';
      expect(await target.json(['licenses', 'show', 'Sunrise'], carol)).toMatchObject({ virtualNumbers: { used: 3, limit: 3 } });
      // Importing the same file again: its trees exist now.
      const again = await target.run(['import', file]);
      expect(again.code).toBe(2);
      expect(oneErrorLine(again)).toContain("FILE: groups[0].name: group 'Sunrise' already exists in the database");
    } finally {
      target.remove();
    }
  });

  it('refuses a file whose numbers exceed its own limits (exit 4), writing nothing', async () => {
    const target = await new CliWorld().init();
    try {
      const doc = JSON.parse(exported) as { groups: { name: string; licenses?: { virtualNumbers: number; mobileApps: number } }[] };
      const sunrise = doc.groups[0]?.licenses;
      if (!sunrise) throw new Error('Sunrise has no licences in the export');
      sunrise.virtualNumbers = 2;
      const file = join(target.dir, 'tight.json');
      writeFileSync(file, JSON.stringify(doc));
      const before = target.fingerprint(['audit_log']);
      const auditBefore = target.lastAuditId();
      const r = await target.run(['import', file]);
      expect(r.code).toBe(4);
      expect(oneErrorLine(r)).toBe(
        "sipwarden: FILE: numbers: root group 'Sunrise' would have 3 virtual numbers, above its limit of 2; raise virtualNumbers in the file or remove numbers",
      );
      expect(target.fingerprint(['audit_log'])).toBe(before);
      expect(target.auditSince(auditBefore)).toMatchObject([{ operator: 'admin', action: 'import', outcome: 'refused', target: file }]);
    } finally {
      target.remove();
    }
  });

  it('refuses an unknown key (a likely typo) with its path', async () => {
    const target = await new CliWorld().init();
    try {
      const doc = JSON.parse(exported) as { users: Record<string, unknown>[] };
      if (doc.users[1]) doc.users[1].personalNumber = 3;
      const file = join(target.dir, 'typo.json');
      writeFileSync(file, JSON.stringify(doc));
      const before = target.fingerprint();
      const r = await target.run(['import', file]);
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(/^sipwarden: FILE: users\[1\]: .*personalNumber/);
      expect(target.fingerprint()).toBe(before);
    } finally {
      target.remove();
    }
  });
});
