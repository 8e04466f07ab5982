export interface RetryPolicy {
  /** Delay before the second attempt (before jitter). */
  readonly baseDelayMs: number;
  /** Upper bound of any delay. */
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th failed attempt (n >= 1) waits a random time in
 * `[d/2, d]` where `d = min(max, base * 2^(n-1))`. Half is fixed so retries never bunch at zero;
 * half is random so many events failing together spread out instead of retrying in lockstep.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(d / 2 + random() * (d / 2));
}
