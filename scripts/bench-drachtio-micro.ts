/**
 * In-process split of the drachtio path's application cost: what sipwarden's drachtio mode adds to
 * a bare drachtio-srf proxy app per REGISTER, without drachtio-server or sockets, so it can be
 * measured on a shared machine (CPU time, not wall time; the better of interleaved rounds).
 *   npm run build && node dist/scripts/bench-drachtio-micro.js [--rounds N] [--calls N]
 * Both pipelines run on real drachtio-srf objects: its DrachtioAgent parses each message as it
 * comes from drachtio-server (meta line + SIP text), builds Request/Response and runs the
 * middleware; only the wire to drachtio-server is a sink. The data is bench:sip's (bench-sip-db.ts)
 * and the enforcer is built as `serve` builds it (bench-sip-micro.ts `benchEnforcer`).
 *   bare       srf.use('register', proxyRequest to the upstream)   (bench-drachtio-bare-app.ts)
 *   sipwarden  srf.use('register', sipwarden middleware, proxy middleware)   (src/sip/drachtio/drachtio-serve.ts)
 * CPU time includes the garbage collection each pipeline causes.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DrachtioMiddleware } from '../src/sip/drachtio/drachtio-types.js';
import { sipwardenMiddleware } from '../src/sip/drachtio/middleware.js';
import { proxyMiddleware } from '../src/sip/drachtio/proxy-middleware.js';
import { createSrf } from '../src/sip/drachtio/srf.js';
import { upstreamUri } from '../src/sip/drachtio/upstream-uri.js';
import { makeTempDir } from '../test/support/temp-dirs.js';
import { populate, writeInjection } from './bench-sip-db.js';
import { benchEnforcer, registerText } from './bench-sip-micro.js';

const require = createRequire(import.meta.url);

interface Agent {
  wp: { send(socket: Socket, msg: string): string };
  _initServer(socket: Socket): unknown;
  _onMsg(socket: Socket, msg: string): void;
}
type AgentConstructor = new (handler: DrachtioMiddleware) => Agent;
const DrachtioAgent = require('drachtio-srf/lib/drachtio-agent.js') as AgentConstructor;

const UPSTREAM = { host: '127.0.0.1', port: 5080, transport: 'udp' } as const;
const WARMUP = 20_000;

/** A drachtio-srf agent running `use` for REGISTER; what it would write to drachtio-server is dropped. */
function pipeline(use: (srf: ReturnType<typeof createSrf>) => void): (raw: string, seq: number) => void {
  const srf = createSrf();
  use(srf);
  const agent = new DrachtioAgent((srf as unknown as { app: DrachtioMiddleware }).app);
  let written = 0;
  agent.wp = { send: () => `w${written++ % 64}` };
  const socket = new Socket();
  agent._initServer(socket);
  return (raw, seq) => {
    const meta = `m${seq}|sip|network|${Buffer.byteLength(raw)}|udp|127.0.0.1|5099|08:00:00.000000|t${seq}|`;
    agent._onMsg(socket, `${meta}\r\n${raw}`);
  };
}

function main(): void {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, calls: { type: 'string', default: '20000' } } });
  const rounds = Number(values.rounds);
  const calls = Number(values.calls);
  const dir = makeTempDir('bench-drachtio-micro');
  const dbPath = join(dir, 'bench.db');
  populate(dbPath, Date.now(), { renewalInstalls: 1000, burstInstalls: 1000 });
  const numbers = writeInjection(dir, 10).sampleNumbers;
  const { enforcer, logger, close } = benchEnforcer(dbPath, Date.now, { rememberFlows: false }); // as main.ts in drachtio mode
  const destination = upstreamUri(UPSTREAM);
  const bare = pipeline((srf) => {
    srf.use('register', (req) => {
      (srf as unknown as { proxyRequest(r: unknown, d: string, o: object, cb: (err: unknown) => void): void }).proxyRequest(req, destination, { recordRoute: false }, (err) => {
        if (err) console.log(String(err));
      });
    });
  });
  const sipwarden = pipeline((srf) => {
    srf.use('register', sipwardenMiddleware(enforcer, { logger }));
    srf.use('register', proxyMiddleware(srf, UPSTREAM, logger));
  });
  const texts = numbers.map((n, i) => registerText(i, n));
  let seq = 0;
  const run = (p: (raw: string, seq: number) => void, n: number): number => {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      seq++;
      p((texts[seq % texts.length] as string).replace('-4242@', `-${seq}@`), seq);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  run(bare, WARMUP);
  run(sipwarden, WARMUP);
  const results = { bare: [] as number[], sipwarden: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, p] of r % 2 === 0 ? ([['bare', bare], ['sipwarden', sipwarden]] as const) : ([['sipwarden', sipwarden], ['bare', bare]] as const)) {
      results[name].push(run(p, calls));
    }
  }
  const best = (xs: readonly number[]): number => Math.min(...xs);
  const med = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const b = best(results.bare);
  const s = best(results.sipwarden);
  console.log(`drachtio-srf in process, REGISTER, ${rounds} rounds of ${calls} (CPU µs per REGISTER: best / median):`);
  console.log(`  bare       ${b.toFixed(1)} / ${med(results.bare).toFixed(1)}`);
  console.log(`  sipwarden  ${s.toFixed(1)} / ${med(results.sipwarden).toFixed(1)}`);
  console.log(`  sipwarden adds ${(s - b).toFixed(1)} µs (${((s / b - 1) * 100).toFixed(0)} %) best; ${(med(results.sipwarden) - med(results.bare)).toFixed(1)} µs median`);
  void close();
}

main();
