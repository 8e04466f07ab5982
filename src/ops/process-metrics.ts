import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * prom-client's process and Node.js defaults (CPU, memory, descriptors, event-loop lag, GC, heap,
 * handles), under their standard names (`process_*`, `nodejs_*`). Made once per process and shared
 * by every sidecar's registry: they describe the process, and each call of collectDefaultMetrics
 * starts an event-loop monitor and a GC observer that are never stopped.
 */
export function processMetrics(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
