import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface CommitWatch {
  close(): void;
}

export interface CommitWatchOptions {
  /**
   * At most one call per this many ms under a stream of writes (the daemon's own, or another
   * sidecar's), with a last call this long after the first of a burst: that first call may run
   * between the writer's WAL append (what inotify reports) and its wal-index update, before the
   * commit is visible.
   */
  readonly gapMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * Calls `onCommit` as soon as a process commits to the database: in WAL mode every commit appends
 * to the `-wal` file, which the OS reports at once (inotify on Linux), so a CLI change is applied
 * without waiting for the next poll. The folder is watched, not the file, so the watch survives
 * SQLite deleting and re-creating the `-wal`. Our own writes (install claims, last-seen times,
 * the outbox) call it too; `LiveSnapshot.refresh` then costs one PRAGMA. The poll stays as the
 * fallback, for file systems that report nothing (NFS). Returns null when the folder cannot be
 * watched.
 */
export function watchCommits(path: string, onCommit: () => void, options: CommitWatchOptions = {}): CommitWatch | null {
  if (path === ':memory:') return null;
  const wal = `${basename(path)}-wal`;
  const gapMs = options.gapMs ?? 100;
  let next: NodeJS.Timeout | undefined;
  let last = -Infinity;
  const run = (): void => {
    last = performance.now();
    try {
      onCommit();
    } catch (err) {
      options.onError?.(err);
    }
  };
  const changed = (): void => {
    if (next !== undefined) return;
    // At once, so that a request following the CLI's exit is decided on the change ...
    if (performance.now() - last >= gapMs) run();
    // ... and once more, for a commit that was not visible yet or writes that came after.
    next = setTimeout(() => {
      next = undefined;
      run();
    }, Math.max(0, last + gapMs - performance.now()));
    next.unref();
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === wal) changed();
    });
  } catch (err) {
    options.onError?.(err);
    return null;
  }
  watcher.on('error', (err) => options.onError?.(err));
  return {
    close() {
      clearTimeout(next);
      watcher.close();
    },
  };
}
