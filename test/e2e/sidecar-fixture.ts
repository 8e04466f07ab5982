import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { startSidecar, type Sidecar } from '../../src/main.js';
import type { ChangeContext } from '../../src/store/change-context.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { addGroup } from '../../src/store/groups.js';
import { setLicenses, type LicenseChange } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import type { Outcome } from '../../src/store/outcome.js';
import { addUser } from '../../src/store/users.js';
import { makeTempDir } from '../support/temp-dirs.js';

/**
 * An in-process sidecar (`startSidecar`, the composition root `sipwarden serve` uses) on free
 * loopback ports, in front of a real upstream, with a real SQLite file seeded through the store
 * repositories and every log line captured as parsed JSON.
 */

/** One project (root group) with one user owning `numbers`, in creation order. */
export interface ProjectSpec {
  readonly group: string;
  /** Restrictions switch; default on. */
  readonly restrictions?: boolean;
  /** Virtual-number limit while the numbers are added; default `numbers.length`. */
  readonly virtualNumbers?: number;
  readonly mobileApps?: number;
  /** ISO 8601; giving either turns the validity window on. */
  readonly validFrom?: string;
  readonly validUntil?: string;
  readonly numbers: readonly string[];
  /** Lowered to this after the numbers exist: the newest beyond it stop working (DESIGN.md §1). */
  readonly lowerNumbersTo?: number;
}

export type ListenerName = 'udp' | 'tcp' | 'ws' | 'tls' | 'wss';

export interface TestSidecarOptions {
  readonly upstream: {
    readonly port: number;
    readonly transport?: 'udp' | 'tcp' | 'tls';
    /** With transport `tls`: how its certificate is checked (`sip.upstream.tls`). */
    readonly tls?: NonNullable<ConfigInput['sip']>['upstream']['tls'];
  };
  /** Listeners to open on 127.0.0.1 (OS-chosen ports); default udp and tcp. */
  readonly listen?: readonly ListenerName[];
  readonly policy?: NonNullable<ConfigInput['policy']>;
  readonly projects?: readonly ProjectSpec[];
  /** More `sip` settings (e.g. `path`), over the listeners and upstream above. */
  readonly sip?: Omit<NonNullable<ConfigInput['sip']>, 'listen' | 'upstream'>;
  /** Pragmas for the install writer's connection (`query_only = 1`, `max_page_count = N`). */
  readonly writerPragmas?: readonly string[];
  /** Runs on the seeded database before the sidecar starts (e.g. licensing an install). */
  readonly seed?: (db: Db) => void;
  readonly capture?: ConfigInput['capture'];
  /** Readiness settings (e.g. a faster upstream ping). */
  readonly health?: ConfigInput['health'];
  /** The sidecar's clock (ms since the epoch); default the real one. */
  readonly clock?: () => number;
}

/** A pino line as the sidecar wrote it. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

export interface TestSidecar {
  readonly sidecar: Sidecar;
  readonly config: Config;
  readonly dir: string;
  readonly dbPath: string;
  /** A second connection, as another process would hold it: its commits move data_version. */
  readonly db: Db;
  /** host:port of each listener that was asked for. */
  readonly udp: string;
  readonly tcp: string;
  readonly wsUrl: string;
  readonly tls: string;
  readonly wssUrl: string;
  /** http://127.0.0.1:port of the admin listener (an OS-chosen port). */
  readonly adminUrl: string;
  readonly logs: readonly LogLine[];
  /** The per-request decision lines (`refused` / `allowed`). */
  decisions(): LogLine[];
  close(): Promise<void>;
}

export const ADMIN: ChangeContext = Object.freeze({ now: Date.now(), operator: 'e2e' });

/** A value a beforeAll hook set up; throws when the hook failed, so the test fails with the reason. */
export function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the fixture did not start (see the beforeAll error)');
  return value;
}

export function must<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new Error(`${what}: ${outcome.failure.message}`);
  return outcome.value;
}

function ms(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad ISO time in a test project: ${iso}`);
  return t;
}

export function seedProject(db: Db, spec: ProjectSpec, ctx: ChangeContext = ADMIN): void {
  must(addGroup(db, { name: spec.group }, ctx), `group ${spec.group}`);
  const windowed = spec.validFrom !== undefined || spec.validUntil !== undefined;
  const licenses: LicenseChange = {
    restrictions: spec.restrictions ?? true,
    virtualNumbers: spec.virtualNumbers ?? spec.numbers.length,
    mobileApps: spec.mobileApps ?? 0,
    validity: windowed,
    validFrom: ms(spec.validFrom),
    validUntil: ms(spec.validUntil),
  };
  must(setLicenses(db, spec.group, licenses, ctx), `licenses of ${spec.group}`);
  const login = `owner-${spec.group.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  must(addUser(db, { login, group: spec.group }, ctx), `user ${login}`);
  for (const number of spec.numbers) must(addNumber(db, { number, login }, ctx), `number ${number}`);
  if (spec.lowerNumbersTo !== undefined) {
    must(setLicenses(db, spec.group, { virtualNumbers: spec.lowerNumbersTo, mobileApps: Math.min(spec.mobileApps ?? 0, spec.lowerNumbersTo) }, ctx), `lower ${spec.group}`);
  }
}

/** A logger that keeps every line as parsed JSON (pino writes synchronously to a plain sink). */
function capturingLogger(lines: LogLine[]): Logger {
  return pino(
    { level: 'info', base: { app: 'sipwarden' } },
    {
      write(text: string): void {
        for (const line of text.split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
}

export async function startTestSidecar(options: TestSidecarOptions): Promise<TestSidecar> {
  const dir = makeTempDir('sidecar');
  const dbPath = join(dir, 'sipwarden.db');
  const db = openDatabase(dbPath, { create: true });
  for (const project of options.projects ?? []) seedProject(db, project);
  options.seed?.(db);

  const names = options.listen ?? ['udp', 'tcp'];
  const listen = Object.fromEntries(names.map((n) => [n, { host: '127.0.0.1', port: 0 }]));
  const raw: ConfigInput = {
    database: dbPath,
    log: { level: 'info' },
    sip: {
      ...options.sip,
      listen,
      upstream: {
        host: '127.0.0.1',
        port: options.upstream.port,
        transport: options.upstream.transport ?? 'udp',
        ...(options.upstream.tls ? { tls: options.upstream.tls } : {}),
      },
      // Load shedding answers 503 when this busy test machine delays the sidecar: the behaviour
      // these tests check is the policy's (shedding has its own tests, test/sip/overload*.test.ts).
      overload: { enabled: false },
    },
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.capture ? { capture: options.capture } : {}),
    ...(options.health ? { health: options.health } : {}),
    reload: { intervalMs: 100 },
    // Never the fixed default port: test files run in parallel.
    admin: { listen: { host: '127.0.0.1', port: 0 } },
  };
  const config = parseConfig(raw, {}, 'e2e', dir);
  const logs: LogLine[] = [];
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(config, {
      logger: capturingLogger(logs),
      ...(options.writerPragmas ? { writerPragmas: options.writerPragmas } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (err) {
    db.close();
    throw err;
  }
  const a = sidecar.proxy?.addresses ?? {};
  const hostPort = (l: { host: string; port: number } | undefined): string => (l ? `${l.host}:${l.port}` : '');
  const admin = sidecar.operations.adminAddress;
  return {
    sidecar,
    config,
    dir,
    dbPath,
    db,
    udp: hostPort(a.udp),
    tcp: hostPort(a.tcp),
    wsUrl: a.ws ? `ws://${a.ws.host}:${a.ws.port}` : '',
    tls: hostPort(a.tls),
    wssUrl: a.wss ? `wss://${a.wss.host}:${a.wss.port}` : '',
    adminUrl: admin ? `http://${admin.host}:${admin.port}` : '',
    logs,
    decisions: () => logs.filter((l) => l.msg === 'refused' || l.msg === 'allowed'),
    async close() {
      try {
        await sidecar.close();
      } finally {
        db.close();
      }
    },
  };
}
