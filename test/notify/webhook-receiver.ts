import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

/**
 * A real HTTP receiver on 127.0.0.1 standing in for the push gateway: records every request with
 * its raw body and answers as the test says (a status per request, or nothing at all).
 */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAt: number;
}

/** A request and what the receiver answered ('hang': nothing). */
export interface AnsweredRequest extends ReceivedRequest {
  readonly answer: number | 'hang';
}

/** What to answer to the n-th request (0-based): a status, a status with headers, or 'hang'. */
export type Responder = (request: ReceivedRequest, index: number) => number | { status: number; headers: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  readonly port: number;
  readonly url: string;
  readonly requests: readonly AnsweredRequest[];
  respond(responder: Responder): void;
  /** Resolves with the first request (from index `from`) matching `match`; rejects after `timeoutMs` (a hang guard). */
  waitFor(match: (r: AnsweredRequest) => boolean, what: string, timeoutMs?: number, from?: number): Promise<AnsweredRequest>;
  close(): Promise<void>;
}

export async function startReceiver(options: { port?: number; path?: string; responder?: Responder } = {}): Promise<WebhookReceiver> {
  const requests: AnsweredRequest[] = [];
  const hanging: ServerResponse[] = [];
  let responder: Responder = options.responder ?? (() => 204);
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      const answer = responder(r, requests.length);
      const status = answer === 'hang' ? 'hang' : typeof answer === 'number' ? answer : answer.status;
      requests.push({ ...r, answer: status });
      for (const w of waiters) w();
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(typeof answer === 'number' ? answer : answer.status, typeof answer === 'number' ? {} : answer.headers).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('receiver has no TCP address');
  const port = address.port;
  return {
    port,
    url: `http://127.0.0.1:${port}${options.path ?? '/hooks/sipwarden'}`,
    requests,
    respond(next) {
      responder = next;
    },
    waitFor(match, what, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = requests.slice(from).find(match);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`receiver: no ${what} within ${timeoutMs} ms; got ${requests.length} request(s)`));
        }, timeoutMs);
        const waiter = (): void => void check();
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        check();
      });
    },
    close() {
      for (const res of hanging) res.destroy();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
