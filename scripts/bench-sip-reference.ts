/**
 * How the reference Kamailio of `bench:sip` is set up, in one place.
 *
 * The reference is what an operator would put in the sidecar's place if licences were not needed:
 * Kamailio as a production stateless proxy (test/fixtures/kamailio/stateless-proxy.cfg: the same
 * SIP work as the sidecar's embedded proxy minus the policy). Production means: no per-message
 * logging and `debug` ≤ 1 (warnings and errors only), a UDP worker per core, 4 MiB socket buffers
 * like every other peer of the benchmark, and the memory manager without per-fragment debugging
 * records. Ratios against anything less
 * flatter the sidecar; `--only reference-setups` measures the setups below side by side so the
 * choice can be checked on the machine at hand.
 */
import type { KamailioOptions } from '../test/support/kamailio.js';

export interface ReferenceSetup {
  /** Name in the tables. */
  readonly name: string;
  /** What it is and why, one line. */
  readonly description: string;
  readonly options: Pick<KamailioOptions, 'children' | 'debug' | 'memoryManager' | 'sharedMemMb' | 'messageLog'>;
}

/**
 * The reference every ratio is published against: 2 UDP workers (one per core of the 2-core boxes
 * the benchmark runs on; more workers cost more CPU per message there, as SIPp and the registrar
 * share the cores), the fm memory manager, debug=1.
 *
 * Why (measured with `--only reference-setups --rates 1500`, all setups clean, CPU of the proxy per
 * REGISTER transaction, 4 samples each, load average 20–26 from other work): 1 worker 42 µs,
 * 2 workers 45 µs, 4 workers 78 µs, 8 workers 94 µs, 4 workers with qm 130 µs, and the setup the
 * bench used before (2 workers, qm, debug=2) 113 µs. The Debian build's default allocator (qm,
 * compiled with DBG_SR_MEMORY: a debugging record per fragment) roughly doubles what a stateless
 * proxy spends per message, and each worker beyond the cores adds context switches; debug=2
 * logged nothing per message in this config (0 lines under load), one xlog line per message cost
 * about 5 µs. The old reference thus paid about 2.5× the CPU of a production setup per REGISTER:
 * that, not logging, is why it ran out of CPU at 5,000–8,000/s.
 */
export const PRODUCTION_REFERENCE: ReferenceSetup = {
  name: 'reference',
  description: 'production stateless proxy: debug=1 (no per-message logging), 2 UDP workers, -m 256, -x fm',
  options: { children: 2, debug: 1, memoryManager: 'fm', sharedMemMb: 256 },
};

/**
 * Setups compared by `--only reference-setups`. `bench-before` is how the benchmark ran Kamailio
 * before issue 8 (the harness defaults: debug=2, 2 workers, qm); the others change one thing each.
 */
export const REFERENCE_SETUPS: readonly ReferenceSetup[] = [
  PRODUCTION_REFERENCE,
  { name: 'bench-before', description: 'the harness defaults the bench used before: debug=2, 2 UDP workers, -m 256, qm', options: { children: 2, debug: 2, sharedMemMb: 256 } },
  { name: 'qm', description: 'production but the default memory manager (qm, with debugging records)', options: { children: 2, debug: 1, sharedMemMb: 256 } },
  { name: '1-worker', description: 'production but 1 UDP worker', options: { children: 1, debug: 1, memoryManager: 'fm', sharedMemMb: 256 } },
  { name: '4-workers', description: 'production but 4 UDP workers', options: { children: 4, debug: 1, memoryManager: 'fm', sharedMemMb: 256 } },
  { name: '8-workers', description: 'production but 8 UDP workers (Kamailio\'s default -n)', options: { children: 8, debug: 1, memoryManager: 'fm', sharedMemMb: 256 } },
  { name: 'msg-log', description: 'production but debug=2 and one xlog line per request and reply (what per-message logging costs)', options: { children: 2, debug: 2, memoryManager: 'fm', sharedMemMb: 256, messageLog: true } },
];
