import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * How often the event-loop lag is sampled (prom-client's default: 10 ms). Each sample is a timer
 * that wakes the loop: 100 wake-ups a second were a third of an idle sidecar's CPU and a cost per
 * REGISTER under load (the loop sleeps between requests). At 50 ms every stall longer than that
 * still delays a sample, and the lag percentiles come from 20 samples a second.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * prom-client's process and Node.js defaults (CPU, memory, descriptors, event-loop lag, GC, heap,
 * handles), under their standard names (`process_*`, `nodejs_*`). Made once per process and shared
 * by every sidecar's registry: they describe the process, and each call of collectDefaultMetrics
 * starts an event-loop monitor and a GC observer that are never stopped.
 */
export function processMetrics(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }
  return shared;
}
