import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { startProcess, type ManagedProcess, type ProcessExit } from './managed-process.js';
import { sippBinary } from './peer-tools.js';
import { freePort } from './ports.js';
import { writeInjectionCsv, type InjectionTable } from './sipp-injection.js';
import { parseCountsCsv, parseRttCsv, parseStatsCsv, readTraceBySuffix, type ResponseTime, type SippStats } from './sipp-stats.js';
import { isBoundOnLoopback } from './socket-listening.js';
import { FIXTURES_DIR } from './repo-root.js';
import { makeTempDir } from './temp-dirs.js';

export const SIPP_FIXTURES_DIR = join(FIXTURES_DIR, 'sipp') + sep;

/** SIPp's embedded scenarios (`-sn`); note `uac`/`uas` ignore Record-Route. */
export type BuiltinScenario = 'uac' | 'uas' | 'regexp' | 'branchc' | 'branchs';
/** Scenarios in test/fixtures/sipp; any other `*.xml` is a path (absolute, or relative to that folder). */
export type FixtureScenario =
  | 'register.xml'
  | 'register-app.xml'
  | 'deregister.xml'
  | 'uac-invite.xml'
  | 'uas.xml'
  | 'uac-cancel-any-order.xml'
  | 'uas-ringing.xml'
  | 'invite-expect-403.xml';
export type SippScenario = BuiltinScenario | FixtureScenario | `${string}.xml`;

/** u1/t1: one UDP socket / one TCP connection for all calls; un/tn: one per call. */
export type SippTransport = 'u1' | 't1' | 'un' | 'tn';

export interface SippCommonOptions {
  readonly scenario: SippScenario;
  readonly transport?: SippTransport;
  /** -m: SIPp exits after this many calls. */
  readonly calls: number;
  /** -timeout: SIPp gives up (as a failure) after this long; the harness SIGKILLs 5 s later. */
  readonly timeoutSec: number;
  /** -p; a free port by default. */
  readonly localPort?: number;
  /** -inf: rows to write, or the path of an existing CSV. */
  readonly injection?: InjectionTable | string;
  /** -d: length of `<pause/>` steps (the call length in uac-invite.xml). */
  readonly callLengthMs?: number;
  /** -trace_msg: every message sent and received, into files.messages. */
  readonly traceMessages?: boolean;
  /** -trace_rtt: every response time into `responseTimes` (one file write per measurement). */
  readonly responseTimes?: boolean;
  readonly extraArgs?: readonly string[];
}

export interface SippClientOptions extends SippCommonOptions {
  /** host:port the first request goes to. */
  readonly target: string;
  /** -r: new calls per second (default 50). */
  readonly rate?: number;
  /** -l: cap on simultaneous calls. */
  readonly maxConcurrent?: number;
}

export type SippServerOptions = SippCommonOptions;

export interface SippFiles {
  readonly dir: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly stats: string;
  readonly errors: string;
  /** `<log>` actions, e.g. the refusal reasons logged by register.xml. */
  readonly actions: string;
  readonly messages: string;
}

export interface SippResult {
  /** 0 all calls succeeded, 1 some failed, 99 no call processed, 255 fatal, 254 bind error. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the harness had to kill SIPp because -timeout did not stop it. */
  readonly killedAfterTimeout: boolean;
  /** Undefined when SIPp died before writing statistics. */
  readonly stats: SippStats | undefined;
  readonly counts: Readonly<Record<string, number>>;
  readonly responseTimes: readonly ResponseTime[];
  /** Text of the -trace_err log (unexpected messages, failed checks). */
  readonly errors: string;
  readonly localPort: number;
  readonly files: SippFiles;
}

/** A SIPp UAS running in the background. */
export interface SippServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  /** Resolves when SIPp exits by itself (after -m calls or -timeout). */
  readonly done: Promise<SippResult>;
  /** SIGTERM (SIPp then writes its final statistics), SIGKILL after a bound. */
  stop(): Promise<SippResult>;
}

const KILL_MARGIN_MS = 5000;
const STOP_GRACE_MS = 3000;
const READY_TIMEOUT_MS = 5000;

/** Run a SIPp client to completion; never hangs past timeoutSec + 5 s. */
export async function runSipp(options: SippClientOptions): Promise<SippResult> {
  const started = await launch(options, [options.target, '-r', String(options.rate ?? 50), ...optional('-l', options.maxConcurrent)]);
  const hardLimit = options.timeoutSec * 1000 + KILL_MARGIN_MS;
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    started.process.exited,
    new Promise<ProcessExit>((resolve) => {
      timer = setTimeout(() => {
        killed = true;
        void started.process.stop(1000).then(resolve, () => resolve({ code: null, signal: 'SIGKILL' }));
      }, hardLimit);
    }),
  ]);
  clearTimeout(timer);
  return collect(started.files, started.localPort, exit, killed);
}

/** Start a SIPp server (UAS) on 127.0.0.1 and wait until its socket is bound. */
export async function startSippServer(options: SippServerOptions): Promise<SippServer> {
  const started = await launch(options, []);
  const { process: proc, files, localPort } = started;
  const protocol = (options.transport ?? 'u1').startsWith('t') ? 'tcp' : 'udp';
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const bound = isBoundOnLoopback(localPort, protocol);
    if (bound === true) break;
    if (bound === undefined) {
      // No /proc: give SIPp a moment to bind.
      await sleep(300);
      break;
    }
    if (proc.exitStatus() || Date.now() > deadline) {
      await proc.stop();
      const result = collect(files, localPort, await proc.exited, false);
      throw new Error(`SIPp server did not bind ${protocol} 127.0.0.1:${localPort}\n${describeSippRun(result)}`);
    }
    await sleep(20);
  }

  let killed = false;
  const killTimer = setTimeout(() => {
    killed = true;
    proc.stop(1000).catch(() => undefined);
  }, options.timeoutSec * 1000 + KILL_MARGIN_MS);
  const done = proc.exited.then((exit) => {
    clearTimeout(killTimer);
    return collect(files, localPort, exit, killed);
  });
  return {
    host: '127.0.0.1',
    port: localPort,
    pid: proc.pid,
    done,
    stop: async () => {
      await proc.stop(STOP_GRACE_MS);
      return done;
    },
  };
}

/** A one-paragraph account of a run, for assertion messages. */
export function describeSippRun(result: SippResult): string {
  const s = result.stats;
  const figures = s
    ? `successful=${s.successful} failed=${s.failed} retrans=${s.retransmissions} unexpected=${s.failedUnexpectedMessage} ` +
      `recvTimeout=${s.failedTimeoutOnRecv} regexp=${s.failedRegexp} strcmp=${s.failedStrcmp}`
    : 'no statistics written';
  const errors = result.errors.trim() === '' ? '' : `\nerrors (${result.files.errors}):\n${result.errors.slice(0, 3000)}`;
  return `sipp exit=${result.exitCode ?? result.signal}${result.killedAfterTimeout ? ' (killed after timeout)' : ''} ${figures} dir=${result.files.dir}${errors}`;
}

interface Launched {
  readonly process: ManagedProcess;
  readonly files: SippFiles;
  readonly localPort: number;
}

async function launch(options: SippCommonOptions, roleArgs: readonly string[]): Promise<Launched> {
  const binary = sippBinary();
  if (!binary.found) throw new Error(binary.reason);
  const dir = makeTempDir('sipp');
  const localPort = options.localPort ?? (await freePort());
  const controlPort = await freePort();
  const files: SippFiles = {
    dir,
    stdout: join(dir, 'stdout.log'),
    stderr: join(dir, 'stderr.log'),
    stats: join(dir, 'stats.csv'),
    errors: join(dir, 'errors.log'),
    actions: join(dir, 'actions.log'),
    messages: join(dir, 'messages.log'),
  };
  const args = [
    ...roleArgs,
    ...scenarioArgs(options.scenario),
    '-t', options.transport ?? 'u1',
    // Everything on loopback: signalling, media and SIPp's remote-control socket.
    '-i', '127.0.0.1', '-mi', '127.0.0.1', '-bind_local', '-p', String(localPort),
    '-ci', '127.0.0.1', '-cp', String(controlPort),
    '-m', String(options.calls),
    '-timeout', `${options.timeoutSec}s`, '-timeout_error',
    // No terminal: never read keyboard commands from stdin.
    '-nostdin',
    '-trace_stat', '-stf', files.stats, '-fd', '1',
    '-trace_err', '-error_file', files.errors,
    '-trace_logs', '-log_file', files.actions,
    '-trace_counts',
    ...(options.traceMessages ? ['-trace_msg', '-message_file', files.messages] : []),
    ...(options.responseTimes ? ['-trace_rtt', '-rtt_freq', '1'] : []),
    ...optional('-d', options.callLengthMs),
    ...injectionArgs(options.injection, dir),
    ...(options.extraArgs ?? []),
  ];
  const proc = startProcess(binary.path, args, { cwd: dir, stdoutPath: files.stdout, stderrPath: files.stderr });
  return { process: proc, files, localPort };
}

function scenarioArgs(scenario: SippScenario): string[] {
  if (!scenario.endsWith('.xml')) return ['-sn', scenario];
  const path = isAbsolute(scenario) ? scenario : join(SIPP_FIXTURES_DIR, scenario);
  if (!existsSync(path)) throw new Error(`SIPp scenario not found: ${path}`);
  return ['-sf', path];
}

function injectionArgs(injection: InjectionTable | string | undefined, dir: string): string[] {
  if (injection === undefined) return [];
  if (typeof injection === 'string') return ['-inf', injection];
  const path = join(dir, 'injection.csv');
  writeInjectionCsv(path, injection);
  return ['-inf', path];
}

function optional(flag: string, value: number | undefined): string[] {
  return value === undefined ? [] : [flag, String(value)];
}

function collect(files: SippFiles, localPort: number, exit: ProcessExit, killed: boolean): SippResult {
  const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  return {
    exitCode: exit.code,
    signal: exit.signal,
    killedAfterTimeout: killed,
    stats: parseStatsCsv(read(files.stats)),
    counts: parseCountsCsv(readTraceBySuffix(files.dir, '_counts.csv') ?? ''),
    responseTimes: parseRttCsv(readTraceBySuffix(files.dir, '_rtt.csv') ?? ''),
    errors: read(files.errors),
    localPort,
    files,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
