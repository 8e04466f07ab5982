import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ProcessExit } from './managed-process.js';
import { drachtioBinary } from './peer-tools.js';
import { freePorts } from './ports.js';
import { isBoundOnLoopback } from './socket-listening.js';
import { makeTempDir } from './temp-dirs.js';

/**
 * A real drachtio-server for the drachtio end-to-end suite and the benchmark: one UDP SIP address
 * and one admin (client) port on 127.0.0.1, its log in a temp folder. drachtio-server is in no
 * package registry these machines reach: the binary is found with drachtioBinary()
 * (SIPWARDEN_DRACHTIO or PATH), and callers skip loudly without it.
 */
export interface DrachtioServerOptions {
  readonly secret: string;
  /** drachtio-server's own log level (`info` by default; `notice` keeps a benchmark quiet). */
  readonly logLevel?: 'debug' | 'info' | 'notice' | 'warning' | 'error';
  /** Bound on start-up until both ports listen (default 10 s). */
  readonly startTimeoutMs?: number;
}

export interface DrachtioServerHandle {
  readonly pid: number;
  readonly adminPort: number;
  /** UDP SIP port, the address clients send to (`<contact>sip:127.0.0.1:PORT;transport=udp`). */
  readonly sipPort: number;
  readonly logPath: string;
  logs(): string;
  /** The exit, if drachtio-server has ended (a crash shows here as a signal). */
  exitStatus(): ProcessExit | undefined;
  /** SIGTERM, SIGKILL to its process group after 3 s; waits for the exit. */
  stop(): Promise<ProcessExit>;
}

function config(adminPort: number, sipPort: number, options: DrachtioServerOptions): string {
  return `<drachtio>
  <admin port="${adminPort}" secret="${options.secret}">127.0.0.1</admin>
  <sip>
    <contacts>
      <contact>sip:127.0.0.1:${sipPort};transport=udp</contact>
    </contacts>
  </sip>
  <logging>
    <console/>
    <loglevel>${options.logLevel ?? 'info'}</loglevel>
    <sofia-loglevel>3</sofia-loglevel>
  </logging>
</drachtio>
`;
}

export async function startDrachtioServer(options: DrachtioServerOptions): Promise<DrachtioServerHandle> {
  const binary = drachtioBinary();
  if (!binary.found) throw new Error(binary.reason);
  const [adminPort = 0, sipPort = 0] = await freePorts(2);
  const dir = makeTempDir('drachtio');
  const configPath = join(dir, 'drachtio.conf.xml');
  const logPath = join(dir, 'drachtio.log');
  writeFileSync(configPath, config(adminPort, sipPort, options));
  const proc = startProcess(binary.path, ['-f', configPath], { cwd: dir, stdoutPath: logPath, stderrPath: logPath });
  const logs = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!(isBoundOnLoopback(adminPort, 'tcp') && isBoundOnLoopback(sipPort, 'udp'))) {
    const exit = proc.exitStatus();
    if (exit !== undefined || Date.now() > deadline) {
      await proc.stop();
      const why = exit === undefined ? `did not listen on ${adminPort}/tcp and ${sipPort}/udp in time` : `exited: ${JSON.stringify(exit)}`;
      throw new Error(`drachtio-server ${why}; see ${logPath}\n${logs().split('\n').slice(-30).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: proc.pid, adminPort, sipPort, logPath, logs, exitStatus: () => proc.exitStatus(), stop: () => proc.stop() };
}
