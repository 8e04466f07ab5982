/** Test SIP messages, written out by hand so the parser under test is not used to build them. */

export interface RequestSpec {
  readonly method: string;
  readonly uri: string;
  readonly headers: readonly string[];
  readonly body?: string;
  /** Omit Content-Length (datagrams allow it). */
  readonly noContentLength?: boolean;
}

export function request(spec: RequestSpec): string {
  const body = spec.body ?? '';
  const lines = [`${spec.method} ${spec.uri} SIP/2.0`, ...spec.headers];
  if (!spec.noContentLength) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export interface DialogIds {
  readonly callId: string;
  readonly branch: string;
  readonly cseq?: number;
  readonly fromTag?: string;
  readonly toTag?: string;
  /** Client's sent-by, default 127.0.0.1:5099. */
  readonly sentBy?: string;
  readonly viaTransport?: string;
  readonly maxForwards?: number | null;
}

export function register(ids: DialogIds, extra: readonly string[] = []): string {
  return request({
    method: 'REGISTER',
    uri: 'sip:intercom.example',
    headers: [
      `Via: SIP/2.0/${ids.viaTransport ?? 'UDP'} ${ids.sentBy ?? '127.0.0.1:5099'};branch=${ids.branch};rport`,
      ...maxForwards(ids),
      `From: <sip:1001@intercom.example>;tag=${ids.fromTag ?? 'ft1'}`,
      `To: <sip:1001@intercom.example>${ids.toTag ? `;tag=${ids.toTag}` : ''}`,
      `Call-ID: ${ids.callId}`,
      `CSeq: ${ids.cseq ?? 1} REGISTER`,
      'Contact: <sip:1001@10.0.0.5:5099>;expires=600',
      'Expires: 600',
      ...extra,
    ],
  });
}

export function invite(ids: DialogIds, extra: readonly string[] = [], method = 'INVITE'): string {
  const body = 'v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  return request({
    method,
    uri: 'sip:1002@intercom.example',
    headers: [
      `Via: SIP/2.0/${ids.viaTransport ?? 'UDP'} ${ids.sentBy ?? '127.0.0.1:5099'};branch=${ids.branch};rport`,
      ...maxForwards(ids),
      `From: "Door" <sip:1001@intercom.example>;tag=${ids.fromTag ?? 'ft1'}`,
      `To: <sip:1002@intercom.example>${ids.toTag ? `;tag=${ids.toTag}` : ''}`,
      `Call-ID: ${ids.callId}`,
      `CSeq: ${ids.cseq ?? 1} ${method}`,
      'Contact: <sip:1001@10.0.0.5:5099>',
      ...(method === 'INVITE' ? ['Content-Type: application/sdp'] : []),
      ...extra,
    ],
    body: method === 'INVITE' ? body : '',
  });
}

function maxForwards(ids: DialogIds): string[] {
  if (ids.maxForwards === null) return [];
  return [`Max-Forwards: ${ids.maxForwards ?? 70}`];
}

/** Header lines of a message (folded lines are not expected here). */
export function headerLines(message: string): string[] {
  const end = message.indexOf('\r\n\r\n');
  return message.slice(0, end).split('\r\n').slice(1);
}

/** All values of a header (full name, case-insensitive), one per line, in order. */
export function headers(message: string, name: string): string[] {
  const lower = name.toLowerCase();
  return headerLines(message)
    .filter((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === lower)
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
}

export function header(message: string, name: string): string | undefined {
  return headers(message, name)[0];
}

export function startLine(message: string): string {
  return message.slice(0, message.indexOf('\r\n'));
}

/** What a simple UAS would answer: Via, From, To (+tag), Call-ID, CSeq copied (RFC 3261 §8.2.6). */
export function response(req: string, status: number, reason: string, extra: readonly string[] = []): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const line of headerLines(req)) {
    const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
    if (name === 'via' || name === 'v' || name === 'from' || name === 'f' || name === 'call-id' || name === 'i' || name === 'cseq') {
      lines.push(line);
    } else if (name === 'to' || name === 't') {
      lines.push(line.includes(';tag=') ? line : `${line};tag=uas1`);
    } else if (name === 'record-route') {
      lines.push(line);
    }
  }
  lines.push(...extra, 'Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
