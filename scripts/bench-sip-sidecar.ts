/**
 * The sidecar under test as its own process: `node dist/src/cli/bin.js serve --config FILE`, as an
 * operator runs it (log level info, the production default), so that its CPU and memory can be
 * read from /proc and it shares no event loop with the benchmark driver.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load-config.js';
import type { ConfigInput } from '../src/config/schema.js';
import { startProcess, type ManagedProcess } from '../test/support/managed-process.js';
import { probeSipOptions } from '../test/support/sip-options-probe.js';

export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;
/** policy.claimTimeoutMs of the sidecar under test (the default, said here: the lock part measures it). */
export const CLAIM_TIMEOUT_MS = 2000;

export interface SidecarProcessOptions {
  readonly binJs: string;
  readonly dir: string;
  readonly dbPath: string;
  readonly port: number;
  readonly upstreamPort: number;
  /** Node flags before the script, e.g. --cpu-prof. */
  readonly nodeArgs: readonly string[];
}

export interface SidecarProcess {
  readonly pid: number;
  readonly port: number;
  readonly logPath: string;
  readonly process: ManagedProcess;
  /** The sidecar's JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** SIGTERM (the sidecar closes its sockets and database), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  // The benchmark's config file is the whole truth: no SIPWARDEN_* override from the caller's shell.
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_') && k !== 'NODE_OPTIONS'));
}

export async function startSidecarProcess(options: SidecarProcessOptions): Promise<SidecarProcess> {
  const raw: ConfigInput = {
    database: options.dbPath,
    log: { level: 'info' },
    sip: {
      mode: 'embedded',
      listen: { udp: { host: '127.0.0.1', port: options.port }, tcp: { host: '127.0.0.1', port: options.port } },
      upstream: { host: '127.0.0.1', port: options.upstreamPort, transport: 'udp' },
      recvBufferSize: UDP_BUFFER_BYTES,
      sendBufferSize: UDP_BUFFER_BYTES,
      // The overload ladder measures the sidecar as shipped: load shedding on (the default), said
      // here so that a change of default does not silently change what the ladder measures.
      overload: { enabled: true },
    },
    policy: { claimTimeoutMs: CLAIM_TIMEOUT_MS },
    // On, as in production, but never on the fixed default port another run may hold.
    admin: { listen: { host: '127.0.0.1', port: 0 } },
  };
  parseConfig(raw, {}, 'bench sidecar config', options.dir); // fail here, with every problem, not in the child
  const configPath = join(options.dir, 'sipwarden.json');
  writeFileSync(configPath, `${JSON.stringify(raw, null, 2)}\n`);
  const logPath = join(options.dir, 'sidecar.log');
  const proc = startProcess(process.execPath, [...options.nodeArgs, options.binJs, 'serve', '--config', configPath], {
    cwd: options.dir,
    stdoutPath: logPath,
    stderrPath: join(options.dir, 'sidecar.err'),
    env: cleanEnv(),
  });
  const logLines = (): Record<string, unknown>[] => {
    if (!existsSync(logPath)) return [];
    const lines: Record<string, unknown>[] = [];
    for (const line of readFileSync(logPath, 'utf8').split('\n')) {
      if (line.startsWith('{')) {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // A line being written right now.
        }
      }
    }
    return lines;
  };
  // OPTIONS to the sidecar is relayed to the registrar, so an answer proves the whole chain.
  const answer = await probeSipOptions({ host: '127.0.0.1', port: options.port, timeoutMs: 30_000, gaveUp: () => proc.exitStatus() !== undefined });
  if (answer === undefined) {
    await proc.stop();
    const err = existsSync(join(options.dir, 'sidecar.err')) ? readFileSync(join(options.dir, 'sidecar.err'), 'utf8') : '';
    throw new Error(`the sidecar never answered OPTIONS on 127.0.0.1:${options.port}\n${err.slice(-2000)}`);
  }
  return {
    pid: proc.pid,
    port: options.port,
    logPath,
    process: proc,
    logLines,
    stop: async (graceMs = 5000) => {
      await proc.stop(graceMs);
    },
  };
}
