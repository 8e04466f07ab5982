import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What one POST came to: an HTTP status, or a transport error (refused, reset, timeout …). */
export type PostResult =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfterMs: number | null }
  | { readonly kind: 'error'; readonly error: string };

export interface PostOptions {
  readonly timeoutMs: number;
  /** Aborts the request (shutdown); the promise then resolves with an error result. */
  readonly signal?: AbortSignal;
}

/** Keep-alive agents owned by the deliverer, destroyed on close so no socket outlives it. */
export interface PostAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  destroy(): void;
}

export function createAgents(): PostAgents {
  const http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 16 });
  return {
    http,
    https,
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}

/** RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * POSTs `body` and resolves with the status once the response has been read (its body is
 * drained and discarded), or with an error. Never rejects. The timeout covers the whole exchange.
 */
export function postJson(
  url: URL,
  body: string,
  headers: Readonly<Record<string, string>>,
  agents: PostAgents,
  options: PostOptions,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const secure = url.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = (): void => {
      req.destroy(new Error('aborted: sipwarden is stopping'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      res.resume();
      res.on('end', () => finish({ kind: 'response', status, retryAfterMs }));
      res.on('error', (err) => finish({ kind: 'error', error: describe(err) }));
    });
    req.on('error', (err) => finish({ kind: 'error', error: describe(err) }));
    req.end(body);
  });
}

function describe(err: Error): string {
  const code = 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
  return `${code}${err.message}`.slice(0, 300);
}
