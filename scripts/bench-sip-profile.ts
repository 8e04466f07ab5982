/**
 * Summary of a V8 `.cpuprofile` (written by `node --cpu-prof`): self time per function and per
 * area of the code, so a benchmark run can say where the sidecar's time goes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** CLOCK_MONOTONIC µs, the clock of process.hrtime. */
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Sampled time with the thread busy; shares below are of this. */
  readonly busyMs: number;
  /** Time waiting in the event loop for packets, left out of the shares. */
  readonly idleMs: number;
  readonly topFunctions: readonly { readonly name: string; readonly ms: number; readonly share: number }[];
  readonly areas: readonly { readonly area: string; readonly ms: number; readonly share: number }[];
}

/** Where a frame belongs: our source folders by name, libraries by package, V8/Node by kind. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/libuv native (syscalls, event loop)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm: ${pkg[1]}`;
  const ours = /\/dist\/src\/((?:[^/]+\/)*?)([^/]+)\.js$/.exec(url);
  if (ours) {
    // One area per folder: src/sip/message is the parsing, src/sip/transports, src/sip/proxy, ...
    const folder = ours[1] ?? '';
    return `src/${folder.replace(/\/$/, '') || '.'}`;
  }
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0] ?? url}`;
  return url;
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
}

/** A span of CLOCK_MONOTONIC µs (process.hrtime.bigint() / 1000n): only samples inside count. */
export type TimeWindow = readonly [number, number];

export function summarizeProfile(path: string, windows: readonly TimeWindow[], top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perFunction = new Map<string, number>();
  const perArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (node === undefined || !windows.some(([from, to]) => at >= from && at <= to)) return;
    if (node.callFrame.url === '' && node.callFrame.functionName === '(idle)') {
      idle += us;
      return;
    }
    total += us;
    const name = label(node.callFrame);
    perFunction.set(name, (perFunction.get(name) ?? 0) + us);
    const area = areaOf(node.callFrame);
    perArea.set(area, (perArea.get(area) ?? 0) + us);
  });
  const rank = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
  return {
    busyMs: total / 1000,
    idleMs: idle / 1000,
    topFunctions: rank(perFunction).slice(0, top),
    areas: rank(perArea).map(({ name, ms, share }) => ({ area: name, ms, share })),
  };
}

/** A thread's profile: `node --cpu-prof` writes one per thread, named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile. */
export interface ThreadProfile {
  readonly path: string;
  /** 0 for the main thread (the event loop), else a worker thread's id. */
  readonly threadId: number;
}

/** Every `.cpuprofile` in `dir` (of process `pid` when given), the main thread's first (a worker's profile is written last). */
export function findProfiles(dir: string, pid?: number): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && (pid === undefined || f.split('.').at(-4) === String(pid)))
    .map((f) => ({ path: join(dir, f), threadId: Number(f.split('.').at(-3) ?? Number.NaN) }))
    .sort((a, b) => a.threadId - b.threadId || a.path.localeCompare(b.path));
}
