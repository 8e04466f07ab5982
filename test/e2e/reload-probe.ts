import type { SipAnswer, UdpSipClient } from './udp-sip-client.js';

export interface Probe {
  /** From `since` to the first REGISTER answered with the wanted status (that REGISTER's answer time). */
  readonly ms: number;
  readonly attempts: number;
  readonly answer: SipAnswer;
}

const GAP_MS = 20;

/**
 * Sends REGISTERs for `number` until one is answered `status`, and says how long after `since`
 * (a `performance.now()` reading, e.g. when a CLI command exited) that answer came. Bounded by
 * `giveUpMs`: past it the last answer is reported as the failure.
 */
export async function registerUntil(
  client: UdpSipClient,
  target: string,
  number: string,
  status: number,
  since: number,
  giveUpMs = 5000,
): Promise<Probe> {
  let attempts = 0;
  let last: SipAnswer | null = null;
  while (performance.now() - since < giveUpMs) {
    attempts++;
    last = await client.register(target, { number }, 1000);
    if (last?.status === status) return { ms: performance.now() - since, attempts, answer: last };
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  throw new Error(
    `REGISTER ${number}: no ${status} within ${giveUpMs} ms (${attempts} attempts; last: ${last ? `${last.status} ${last.header('x-sipwarden-reason') ?? ''}` : 'no answer'})`,
  );
}
