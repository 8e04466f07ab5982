import type { QueueProbe } from '../transports/queue-probe.js';

export interface DelayMonitorOptions {
  /** The UDP listener's receive-queue probe; null when there is no UDP listener. */
  readonly probe: QueueProbe | null;
  readonly intervalMs: number;
  /** Called every interval with the queueing delay measured, in ms. */
  readonly onDelay: (delayMs: number) => void;
}

export interface DelayMonitor {
  stop(): void;
}

/**
 * Measures, every interval, how long new work waits before the proxy gets to it: the larger of
 * the event-loop lag (how late this timer fires: what TCP and WebSocket messages wait) and the
 * UDP receive-queue wait (QueueProbe, which sends its next probe on the same tick). One unref'd
 * timer, stopped with the proxy.
 */
export function startDelayMonitor(options: DelayMonitorOptions): DelayMonitor {
  const { probe, intervalMs, onDelay } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let due = performance.now() + intervalMs;
  const tick = (): void => {
    const now = performance.now();
    const lag = Math.max(0, now - due);
    const wait = probe === null ? 0 : probe.take();
    probe?.send();
    onDelay(Math.max(lag, wait));
    if (stopped) return;
    due = now + intervalMs;
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  timer = setTimeout(tick, intervalMs);
  timer.unref();
  return {
    stop(): void {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
