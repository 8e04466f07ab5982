import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { DEFAULT_POLICY_OPTIONS } from '../../../src/policy/request-facts.js';
import type { LicenseSnapshot } from '../../../src/policy/snapshot.js';
import { Enforcer, type EnforcerOptions } from '../../../src/sip/enforcement/enforcer.js';
import { addGroup } from '../../../src/store/groups.js';
import type { StoreInstallLedger } from '../../../src/store/store-install-ledger.js';
import { setLicenses } from '../../../src/store/license-settings.js';
import { LiveSnapshot } from '../../../src/store/live-snapshot.js';
import { addNumber } from '../../../src/store/numbers.js';
import { addUser } from '../../../src/store/users.js';
import { testLedger } from '../../store/ledger-fixture.js';
import { ctx, DAY, ok, T0, tempDb, type TempDb } from '../../store/temp-db.js';

/** JSON log lines, parsed as an operator's log shipper would. */
export class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  withMsg(msg: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === msg);
  }
}

export const NOW = T0 + DAY;

/**
 * A real SQLite store in a temp folder: project "Sunrise" (3 numbers, 1 app licence, valid for 30
 * days from T0: numbers 1001-1003) and project "Closed" (expired half a day after T0: number
 * 2001). The clock stands at T0 + 1 day.
 */
export class World {
  readonly t: TempDb;
  readonly live: LiveSnapshot;
  ledger!: StoreInstallLedger;
  readonly logs = new LogLines();
  readonly logger: Logger;
  now = NOW;

  private constructor() {
    this.t = tempDb('sipwarden-drachtio-');
    const db = this.t.db;
    ok(addGroup(db, { name: 'Sunrise' }, ctx));
    ok(setLicenses(db, 'Sunrise', { restrictions: true, virtualNumbers: 3, mobileApps: 1, validity: true, validFrom: T0, validUntil: T0 + 30 * DAY }, ctx));
    ok(addUser(db, { login: 'alice', group: 'Sunrise' }, ctx));
    for (const n of ['1001', '1002', '1003']) ok(addNumber(db, { number: n, login: 'alice' }, ctx));
    ok(addGroup(db, { name: 'Closed' }, ctx));
    ok(setLicenses(db, 'Closed', { restrictions: true, virtualNumbers: 5, mobileApps: 0, validity: true, validFrom: T0, validUntil: T0 + DAY / 2 }, ctx));
    ok(addUser(db, { login: 'bob', group: 'Closed' }, ctx));
    ok(addNumber(db, { number: '2001', login: 'bob' }, ctx));
    this.live = new LiveSnapshot(db, { intervalMs: 50 });
    this.logger = pino({ level: 'debug' }, this.logs);
  }

  /** A world whose install writer thread is ready. */
  static async open(): Promise<World> {
    const world = new World();
    world.ledger = (await testLedger(world.t.path, world.live)).ledger;
    return world;
  }

  enforcer(extra: Partial<EnforcerOptions> = {}, snapshot?: () => LicenseSnapshot): Enforcer {
    return new Enforcer(
      { snapshot: snapshot ?? (() => this.live.current), installs: this.ledger, clock: () => this.now, logger: this.logger },
      { policy: DEFAULT_POLICY_OPTIONS, detection: { userAgent: null }, useDomain: false, servedDomains: [], onInternalError: 'fail-open', warnAgent: 'sipwarden.test', ...extra },
    );
  }

  async close(): Promise<void> {
    await this.ledger.close();
    this.live.stop();
    this.t.close();
  }
}

let seq = 0;

export interface RegisterSpec {
  readonly user?: string;
  readonly contact?: string;
  readonly expires?: number;
  readonly extra?: readonly string[];
}

/** A REGISTER as a phone sends it (RFC 3261 §10.2). */
export function register({ user = '1001', contact, expires, extra = [] }: RegisterSpec = {}): string {
  seq++;
  return sip('REGISTER sip:intercom.example', [
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-d${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@intercom.example>;tag=f${seq}`,
    `To: <sip:${user}@intercom.example>`,
    `Call-ID: reg-${seq}@127.0.0.1`,
    `CSeq: ${seq} REGISTER`,
    `Contact: ${contact ?? `<sip:${user}@127.0.0.1:5099>`}`,
    ...(expires === undefined ? [] : [`Expires: ${expires}`]),
    ...extra,
  ]);
}

export interface InviteSpec {
  readonly from?: string;
  readonly to?: string;
  readonly toTag?: string;
  readonly method?: string;
}

/** An INVITE (or another request of a call) from `from` to `to`. */
export function invite({ from = '1001', to = '1002', toTag, method = 'INVITE' }: InviteSpec = {}): string {
  seq++;
  return sip(`${method} sip:${to}@intercom.example`, [
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-i${seq};rport`,
    'Max-Forwards: 70',
    `From: "Door" <sip:${from}@intercom.example>;tag=f${seq}`,
    `To: <sip:${to}@intercom.example>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: call-${seq}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${from}@127.0.0.1:5099>`,
  ]);
}

/** A mobile-app Contact with RFC 8599 push parameters and an RFC 5626 instance id. */
export function appContact(instance: string, user = '1001'): string {
  return `<sip:${user}@127.0.0.1:5099;pn-provider=apns;pn-prid=${instance}-token;pn-param=TEAM.com.example.voip>;+sip.instance="<urn:uuid:${instance}>"`;
}

export function sip(startLine: string, headers: readonly string[]): string {
  return `${startLine} SIP/2.0\r\n${[...headers, 'Content-Length: 0'].join('\r\n')}\r\n\r\n`;
}
