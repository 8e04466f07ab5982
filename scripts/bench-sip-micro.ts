/**
 * In-process split of the sidecar's per-message cost: parse / policy / the rest of forwarding,
 * on the benchmark's own database and numbers, one core, no sockets (the proxy core writes to a
 * sink). Each figure is CPU time (not wall time: the machine is shared), the best of 5 interleaved
 * rounds of 40,000 calls over 1,000 distinct messages, after a warm-up.
 *
 * - parse: `parseMessage` (start line, header boundaries, top Via).
 * - policy: `evaluateRegister` / `evaluateInvite` on pre-built facts over the loaded snapshot.
 * - enforcement: `Enforcer.decide` on freshly parsed messages, parsed before the timed loop
 *   (facts extraction, policy, the decision-log check at info, the level `serve` runs at;
 *   refusals are logged to /dev/null).
 * - forward: `core.handle` without a gate (parse, §16 checks, route, Via/Path/Record-Route edit,
 *   serialise), minus parse; and `core.handle` with the real gate, as the sidecar runs it.
 */
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.js';
import { evaluateInvite } from '../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../src/policy/evaluate-register.js';
import type { InviteFacts, RegisterFacts } from '../src/policy/request-facts.js';
import { Enforcer, type EnforcerOptions } from '../src/sip/enforcement/enforcer.js';
import type { Gate } from '../src/sip/proxy/gate.js';
import { LocalAddresses } from '../src/sip/proxy/local-addresses.js';
import { parseMessage } from '../src/sip/message/parse-message.js';
import type { SipMessage } from '../src/sip/message/sip-message.js';
import { createProxy } from '../src/sip/proxy/stateless-proxy.js';
import { openDatabase } from '../src/store/database.js';
import { StoreInstallLedger } from '../src/store/store-install-ledger.js';
import { StoreHealth } from '../src/store/store-health.js';
import { loadSnapshot } from '../src/store/snapshot-loader.js';
import { okFor } from './loopback-peers.js';

const LOOPS = 40_000;
const WARMUP = 10_000;
const ROUNDS = 5;
const BATCH = 1_000;
const CLIENT = { transport: 'udp' as const, address: '127.0.0.1', port: 5099 };
const UPSTREAM = { transport: 'udp' as const, address: '127.0.0.1', port: 5080 };

export interface MicroSplit {
  readonly registerParse: number;
  readonly registerPolicy: number;
  /** Facts extraction + policy + log check (Enforcer.decide), without parse. */
  readonly registerEnforce: number;
  /** core.handle without gate, minus parse: checks, route, edit, serialise. */
  readonly registerForward: number;
  /** core.handle with the real gate: one REGISTER as the sidecar handles it. */
  readonly registerTotal: number;
  readonly okRelay: number;
  readonly inviteParse: number;
  readonly invitePolicy: number;
  readonly inviteTotal: number;
}

/** SIPp's bench-register.xml request, as it reaches the sidecar (Call-ID `${i}-4242@127.0.0.1`). */
export function registerText(i: number, number: string, clientPort = 5099): string {
  return [
    'REGISTER sip:127.0.0.1:5060 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${clientPort};rport;branch=z9hG4bK-${i}-1-0`,
    `From: <sip:${number}@127.0.0.1>;tag=4242SIPpTag00${i}`,
    `To: <sip:${number}@127.0.0.1>`,
    `Call-ID: ${i}-4242@127.0.0.1`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${number}@127.0.0.1:${clientPort};transport=UDP>`,
    'Expires: 3600',
    'Max-Forwards: 70',
    'User-Agent: sipp-door-panel',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** uac-invite.xml's INVITE. */
function inviteText(i: number, caller: string, callee: string): string {
  const sdp = 'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  return [
    `INVITE sip:${callee}@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bK-${i}-1-0`,
    `From: <sip:${caller}@127.0.0.1>;tag=4242SIPpTag00${i}`,
    `To: <sip:${callee}@127.0.0.1:5060>`,
    `Call-ID: ${i}-4242@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${caller}@127.0.0.1:5099;transport=UDP>`,
    'Max-Forwards: 70',
    'User-Agent: sipp-door-panel',
    'Subject: sipwarden e2e',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n');
}

/** One timed operation: `prepare` makes a batch's input untimed, `fn` is timed per call. */
interface Measure<T> {
  // Method syntax: a Measure of any batch type fits Measure<unknown> below.
  fn(i: number, batch: T): void;
  prepare(): T;
}

const plainMeasure = (fn: (i: number) => void): Measure<null> => ({ fn, prepare: () => null });

/**
 * CPU µs per call of each measure (process.cpuUsage, so time the shared machine gives to other
 * processes is not counted): after a warm-up of all, ROUNDS rounds each run every measure once,
 * interleaved so that GC and cache state do not favour the ones timed first, and each keeps its
 * best round. A loop runs in batches of BATCH calls (small: a large live input would make every
 * young-generation GC during the loop copy it).
 */
function timeAll<K extends string>(measures: Readonly<Record<K, Measure<unknown>>>): Record<K, number> {
  const entries = Object.entries(measures) as [K, Measure<unknown>][];
  for (const [, m] of entries) {
    const warm = m.prepare();
    for (let i = 0; i < WARMUP; i++) m.fn(i % BATCH, warm);
  }
  const best = Object.fromEntries(entries.map(([k]) => [k, Number.POSITIVE_INFINITY])) as Record<K, number>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, m] of entries) {
      let us = 0;
      for (let done = 0; done < LOOPS; done += BATCH) {
        const batch = m.prepare();
        const before = process.cpuUsage();
        for (let i = 0; i < BATCH; i++) m.fn(done + i, batch);
        const used = process.cpuUsage(before);
        us += used.user + used.system;
      }
      best[k] = Math.min(best[k], us / LOOPS);
    }
  }
  return best;
}

function parsed(buf: Buffer) {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`benchmark message does not parse: ${r.problem}`);
  return r.message;
}

export function measureSplit(
  dbPath: string,
  numbers: readonly string[],
  calls: readonly (readonly [string, string])[],
  now: number,
): MicroSplit {
  const { config, snapshot, enforcer, gate, logger, close } = benchEnforcer(dbPath, () => now);
  try {
    let last: Buffer = Buffer.alloc(0);
    const core = (withGate: boolean) =>
      createProxy({
        io: { send: (_target, data) => ((last = data), true) },
        listeners: [{ transport: 'udp', host: '127.0.0.1', port: 5060 }],
        localAddresses: new LocalAddresses([{ host: '127.0.0.1', port: 5060 }]),
        upstream: UPSTREAM,
        logger,
        ...(withGate ? { gate } : {}),
      });
    const plain = core(false);
    const gated = core(true);
    const n = numbers.length;
    const registers = numbers.map((num, i) => Buffer.from(registerText(i, num), 'latin1'));
    const registerFacts: RegisterFacts[] = numbers.map((identity) => ({ identity, isDeregister: false, isMobileApp: false, installId: null }));
    const invites = calls.map(([caller, callee], i) => Buffer.from(inviteText(i, caller, callee), 'latin1'));
    const inviteFacts: InviteFacts[] = calls.map(([identity, callee]) => ({ identity, callee, isMobileApp: false, installId: null }));
    const m = invites.length;
    const at = <T>(list: readonly T[], i: number, size: number): T => list[i % size] as T;

    // A 200 OK per forwarded REGISTER (their Vias carry the proxy's branch).
    const oks = registers.map((r) => {
      gated.handle(r, CLIENT);
      return Buffer.from(okFor(last.toString('latin1')), 'latin1');
    });
    let nextBatch = 0;
    const t = timeAll({
      registerParse: plainMeasure((i) => parsed(at(registers, i, n))),
      registerPolicy: plainMeasure((i) => evaluateRegister(at(registerFacts, i, n), snapshot, now, config.policy)),
      // Each message object once: SipMessage caches what its accessors have read.
      registerEnforce: {
        fn: (i: number, batch: SipMessage[]) => enforcer.decide(batch[i % BATCH] as SipMessage, CLIENT),
        prepare: () => {
          const base = nextBatch++ * BATCH;
          return Array.from({ length: BATCH }, (_, i) => parsed(at(registers, base + i, n)));
        },
      },
      forwardPlain: plainMeasure((i) => plain.handle(at(registers, i, n), CLIENT)),
      registerTotal: plainMeasure((i) => gated.handle(at(registers, i, n), CLIENT)),
      okRelay: plainMeasure((i) => gated.handle(at(oks, i, n), UPSTREAM)),
      inviteParse: plainMeasure((i) => parsed(at(invites, i, m))),
      invitePolicy: plainMeasure((i) => evaluateInvite(at(inviteFacts, i, m), snapshot, now, config.policy)),
      inviteTotal: plainMeasure((i) => gated.handle(at(invites, i, m), CLIENT)),
    });
    if (gated.stats.handlerErrors > 0 || plain.stats.handlerErrors > 0) throw new Error('the proxy core reported handler errors');
    return {
      registerParse: t.registerParse,
      registerPolicy: t.registerPolicy,
      registerEnforce: t.registerEnforce,
      registerForward: Math.max(0, t.forwardPlain - t.registerParse),
      registerTotal: t.registerTotal,
      okRelay: t.okRelay,
      inviteParse: t.inviteParse,
      invitePolicy: t.invitePolicy,
      inviteTotal: t.inviteTotal,
    };
  } finally {
    void close();
  }
}

/**
 * The Enforcer on the benchmark's database as `serve` builds it — snapshot, ledger on its writer
 * thread (plain REGISTERs and INVITEs never write), decision log at info to /dev/null — and the
 * gate the proxy core calls.
 */
export function benchEnforcer(dbPath: string, clock: () => number, extra: Partial<EnforcerOptions> = {}) {
  const config = parseConfig({ database: dbPath, sip: { upstream: { host: '127.0.0.1' } } });
  const db = openDatabase(dbPath);
  const snapshot = loadSnapshot(db);
  const ledger = new StoreInstallLedger({
    path: dbPath,
    claimTimeoutMs: config.policy.claimTimeoutMs,
    onClaimed: () => undefined,
    health: new StoreHealth(Date.now, () => undefined),
  });
  const logger = pino({ level: 'info', base: { app: 'sipwarden' } }, pino.destination({ dest: '/dev/null', sync: true }));
  const enforcer = new Enforcer(
    { snapshot: () => snapshot, installs: ledger, clock, logger },
    { policy: config.policy, detection: { userAgent: null }, servedDomains: [], onInternalError: 'fail-open', warnAgent: '127.0.0.1', ...extra },
  );
  const gate: Gate = (request, ctx) => enforcer.decide(request, { transport: ctx.transport, address: ctx.source.address, port: ctx.source.port });
  return {
    config,
    snapshot,
    enforcer,
    gate,
    logger,
    close: async (): Promise<void> => {
      await ledger.close();
      db.close();
    },
  };
}
