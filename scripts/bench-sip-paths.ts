/**
 * The paths SIPp load goes through in `bench:sip`, each to the same Kamailio registrar:
 *   sidecar    SIPp → `sipwarden serve` (its own process, log level info, real policy) → registrar
 *   reference  SIPp → Kamailio as a production stateless proxy (bench-sip-reference.ts) → registrar
 *   direct     SIPp → registrar
 *
 * This list is the seam for another proxy under test: a module exporting a `PathDefinition`
 * (e.g. a drachtio-srf application in front of a drachtio-server), added to `PATH_DEFINITIONS`.
 * Everything else — ladders, overload, mixed load, tables, ratios — works from the definition.
 */
import { join } from 'node:path';
import { startKamailio } from '../test/support/kamailio.js';
import { freePort } from '../test/support/ports.js';
import { PRODUCTION_REFERENCE, type ReferenceSetup } from './bench-sip-reference.js';
import { sampleGroup, udpReceiveBuffer } from './bench-sip-proc.js';
import { startSidecarProcess } from './bench-sip-sidecar.js';

export interface PathContext {
  /** The repository (dist/ is built there). */
  readonly repo: string;
  /** This run's temp folder. */
  readonly dir: string;
  /** The licence database (bench-sip-db.ts). */
  readonly dbPath: string;
  readonly registrarPort: number;
  /** Socket buffers every peer asks for. */
  readonly udpBufferBytes: number;
  /** Extra Node flags for a Node process under test (--node-arg, --cpu-prof). */
  readonly nodeArgs: readonly string[];
}

export interface RunningPath {
  readonly name: string;
  /** host:port SIPp sends to. */
  readonly target: string;
  /** Process group whose CPU and memory are read (null: nothing between SIPp and the registrar). */
  readonly pid: number | null;
  /** A second process group on the path whose CPU is read beside it (a drachtio application's drachtio-server). */
  readonly companion?: { readonly name: string; readonly pid: number };
  /** Applies the licence policy: the data's 403s are expected; elsewhere none. */
  readonly enforces: boolean;
  /** Stands in front of the registrar (gets the overload ladder). */
  readonly proxies: boolean;
  /** One line: what runs and how it is set up. */
  describe(): string;
  /** Anything worth a line after the run (its warnings, log lines written under load). */
  report(): string[];
  /** Its JSON log lines so far, for a path that writes one (the sidecar). */
  readonly logLines?: () => readonly Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface PathDefinition {
  readonly name: string;
  /** Why it cannot run on this machine (a missing binary), or undefined. */
  unavailable(): string | undefined;
  start(ctx: PathContext): Promise<RunningPath>;
}

const SIDECAR: PathDefinition = {
  name: 'sidecar',
  unavailable: () => undefined,
  async start(ctx) {
    const sidecar = await startSidecarProcess({
      binJs: join(ctx.repo, 'dist', 'src', 'cli', 'bin.js'),
      dir: ctx.dir,
      dbPath: ctx.dbPath,
      port: await freePort(),
      upstreamPort: ctx.registrarPort,
      nodeArgs: ctx.nodeArgs,
    });
    const target = `127.0.0.1:${sidecar.port}`;
    return {
      name: 'sidecar',
      target,
      pid: sidecar.pid,
      enforces: true,
      proxies: true,
      describe: () => {
        const lines = sidecar.logLines();
        const loaded = lines.find((l) => l.msg === 'license snapshot loaded');
        return (
          `sipwarden serve pid ${sidecar.pid} ${target}, log level info, node flags ${ctx.nodeArgs.join(' ') || '(none)'}; ` +
          `snapshot ${String(loaded?.numbers ?? '?')} numbers in ${String(loaded?.ms ?? '?')} ms; SO_RCVBUF ${udpReceiveBuffer(sidecar.port)}; ` +
          `idle RSS ${sampleGroup(sidecar.pid).leaderRssMb.toFixed(0)} MB`
        );
      },
      report: () => {
        const lines = sidecar.logLines();
        const counts = new Map<string, number>();
        for (const l of lines) counts.set(String(l.msg), (counts.get(String(l.msg)) ?? 0) + 1);
        const warnings = lines.filter((l) => typeof l.level === 'number' && l.level >= 40);
        const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([m, n]) => `${n} '${m}'`).join(', ');
        return [
          `sidecar log: ${lines.length} lines (${top}); ${warnings.length} warnings/errors` +
            (warnings.length ? `: ${[...new Set(warnings.map((w) => String(w.msg)))].slice(0, 4).join(' | ')}` : ''),
        ];
      },
      logLines: () => sidecar.logLines(),
      // With --cpu-prof the sidecar writes its profile on exit: time to spare.
      stop: () => sidecar.stop(20_000),
    };
  },
};

/** Kamailio as a stateless proxy, set up as `setup` says; the reference of every ratio is PRODUCTION_REFERENCE. */
export function kamailioPath(setup: ReferenceSetup): PathDefinition {
  return {
    name: setup.name,
    unavailable: () => undefined,
    async start(ctx) {
      const k = await startKamailio({
        config: 'stateless-proxy',
        forwardTo: `127.0.0.1:${ctx.registrarPort}`,
        maxBuffer: ctx.udpBufferBytes,
        ...setup.options,
      });
      const startupLogLength = k.logs().split('\n').length;
      return {
        name: setup.name,
        target: `127.0.0.1:${k.port}`,
        pid: k.pid,
        enforces: false,
        proxies: true,
        describe: () => `Kamailio stateless pid ${k.pid} 127.0.0.1:${k.port}, ${setup.description}; SO_RCVBUF ${udpReceiveBuffer(k.port)}`,
        report: () => {
          const after = k.logs().split('\n');
          const logged = after.slice(startupLogLength - 1).filter((l) => l.trim() !== '' && !/sig_usr|handle_sigs|Thank you for flying/.test(l));
          return [`${setup.name} log: ${logged.length} lines written after start-up${logged[0] ? ` (first: ${logged[0].trim().slice(0, 120)})` : ''}`];
        },
        stop: async () => {
          await k.stop();
        },
      };
    },
  };
}


const DIRECT: PathDefinition = {
  name: 'direct',
  unavailable: () => undefined,
  start: (ctx) =>
    Promise.resolve<RunningPath>({
      name: 'direct',
      target: `127.0.0.1:${ctx.registrarPort}`,
      pid: null,
      enforces: false,
      proxies: false,
      describe: () => 'SIPp straight to the registrar',
      report: () => [],
      stop: () => Promise.resolve(),
    }),
};

/** Every path the benchmark knows, in table order. */
export const PATH_DEFINITIONS: readonly PathDefinition[] = [SIDECAR, kamailioPath(PRODUCTION_REFERENCE), DIRECT];
