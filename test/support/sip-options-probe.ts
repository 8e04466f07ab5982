import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';

export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  /** Give up after this long (a hang guard for start-up, not a speed assertion). */
  readonly timeoutMs: number;
  /** Checked between attempts: stop early when the peer process already died. */
  readonly gaveUp?: () => boolean;
}

const RESEND_MS = 100;

/**
 * Send OPTIONS over UDP until the peer answers with any SIP response
 * (RFC 3261 section 11: OPTIONS is the capability query every server must
 * answer). Resolves with the status line, or undefined if nothing answered.
 */
export async function probeSipOptions(options: ProbeOptions): Promise<string | undefined> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    // Errors after binding (e.g. ICMP unreachable) just mean "no answer yet".
    socket.on('error', reject);
    socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve());
  });
  const callId = `${randomUUID()}@sipwarden-probe`;
  const { port: localPort } = socket.address();
  const request = [
    `OPTIONS sip:${options.host}:${options.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};rport;branch=z9hG4bK${randomUUID().replaceAll('-', '')}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1:${localPort}>;tag=${randomUUID().slice(0, 8)}`,
    `To: <sip:${options.host}:${options.port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

  try {
    return await new Promise<string | undefined>((resolve) => {
      const deadline = Date.now() + options.timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: string | undefined): void => {
        clearTimeout(timer);
        resolve(result);
      };
      socket.on('message', (data) => {
        const text = data.toString('utf8');
        if (text.startsWith('SIP/2.0 ') && text.includes(callId)) finish(text.slice(0, text.indexOf('\r\n')));
      });
      const attempt = (): void => {
        if (Date.now() >= deadline || options.gaveUp?.()) {
          finish(undefined);
          return;
        }
        socket.send(request, options.port, options.host);
        timer = setTimeout(attempt, RESEND_MS);
      };
      attempt();
    });
  } finally {
    socket.close();
  }
}
