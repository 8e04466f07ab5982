/** How each ladder load is driven: the SIPp scenario, the rows, and the 403s the sidecar owes them. */
import { join } from 'node:path';
import type { Db } from '../src/store/database.js';
import type { BenchData } from './bench-sip-db.js';
import { prng } from './bench-prng.js';
import type { LoadDriver } from './bench-sip-ladder.js';
import { NEW_INSTALLS_FROM, describeMix, drawMixedRows, expectedMixedRefusals, readFreeApps, writeMixedCsv } from './bench-sip-mixed.js';
import type { LadderLoad } from './bench-sip-plan.js';

/**
 * `db`: a read-only connection to the sidecar's database (the free app licences before each mixed
 * step); `scenario`: the absolute path of a fixture scenario; `say`: progress lines.
 */
export function loadDrivers(
  data: BenchData,
  dir: string,
  db: Db,
  scenario: (name: `${string}.xml`) => `${string}.xml`,
  say: (line: string) => void,
): Record<LadderLoad, LoadDriver> {
  let nextInstall = NEW_INSTALLS_FROM;
  let stepNo = 0;
  const rnd = prng(11);
  return {
    register: {
      load: 'register',
      prepare: (path, _rate, calls) => ({ scenario: scenario('bench-register.xml'), injection: data.registerCsv, expectedRefused: path.enforces ? data.refusedWithin(calls) : 0 }),
    },
    invite: {
      load: 'invite',
      prepare: () => ({ scenario: scenario('bench-uac-invite.xml'), injection: data.inviteCsv, expectedRefused: 0 }),
    },
    mixed: {
      load: 'mixed',
      prepare: (path, _rate, calls) => {
        const draw = drawMixedRows(calls, rnd, nextInstall);
        nextInstall = draw.nextInstall;
        const injection = join(dir, `mixed-${++stepNo}.csv`);
        writeMixedCsv(injection, draw.rows);
        const expectedRefused = path.enforces ? expectedMixedRefusals(draw.rows, readFreeApps(db)) : 0;
        if (stepNo === 1) say(`mixed rows of the first step: ${describeMix(draw.rows)}`);
        return { scenario: scenario('bench-mixed-register.xml'), injection, expectedRefused };
      },
    },
  };
}
