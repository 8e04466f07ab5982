import type { PostResult } from './http-post.js';

/**
 * What a delivery attempt means for the event: a 2xx ends delivery; 408 Request Timeout and 429
 * Too Many Requests are worth retrying like 5xx and transport errors; any other 4xx will not get
 * better by sending the same body again, so it is given up (RFC 9110 §15.5).
 */
export type AttemptVerdict = 'delivered' | 'retry' | 'failed';

export function classifyAttempt(result: PostResult): AttemptVerdict {
  if (result.kind === 'error') return 'retry';
  const s = result.status;
  if (s >= 200 && s < 300) return 'delivered';
  if (s >= 400 && s < 500 && s !== 408 && s !== 429) return 'failed';
  return 'retry';
}
