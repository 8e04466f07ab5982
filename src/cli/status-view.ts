import type { StatusReport } from '../ops/status-report.js';
import { CliError, EXIT } from './errors.js';
import { formatDuration } from './output.js';

/** The report as a sidecar's /status sends it; anything else is not a sipwarden admin listener. */
function asStatusReport(value: unknown, base: string): StatusReport {
  const v = value as Partial<StatusReport> | null;
  if (v === null || typeof v !== 'object' || typeof v.sipwarden?.version !== 'string' || typeof v.ready?.ready !== 'boolean') {
    throw new CliError(`${base}/status did not answer a sipwarden status report`, EXIT.failure);
  }
  return v as StatusReport;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * `sipwarden status` as one screen (under 25 lines): what an engineer on the box asks first — is
 * it ready and if not why, is the SIP server answering, is traffic flowing and being refused,
 * what the licences look like, is the push outbox draining.
 */
export function renderStatus(value: unknown, base: string): string[] {
  const r = asStatusReport(value, base);
  const s = r.sipwarden;
  const lines: string[] = [];
  lines.push(`sipwarden ${s.version}  pid ${s.pid}  ${s.mode} mode  up ${formatDuration(s.uptimeSeconds * 1000)}  (${base})`);
  lines.push(`ready:     ${r.ready.ready ? 'yes' : 'NO'}`);
  for (const c of r.ready.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(9)} ${c.detail}`);
  const listen = Object.entries(r.sip.listen).map(([t, a]) => `${t} ${a}`);
  lines.push(`sip:       ${listen.length > 0 ? listen.join(', ') : '(drachtio)'}  →  upstream ${r.sip.upstream}`);
  const t = r.sip.traffic;
  if (t !== null) {
    lines.push(
      `traffic:   ${count(t.received)} received, ${count(t.requestsForwarded)} requests and ${count(t.responsesForwarded)} responses forwarded, ` +
        `${count(t.localReplies)} answered here, ${count(t.dropped)} dropped (${count(t.malformed)} malformed)`,
    );
  }
  for (const [name, c] of Object.entries(r.sip.connections)) {
    lines.push(`  ${name}: ${count(c.open)} open, ${count(c.refused)} refused by limits, ${count(c.closedByLimits)} closed by limits`);
  }
  const d = r.decisions;
  const denied = Object.entries(d.denied).sort((a, b) => b[1] - a[1]);
  const deniedTotal = denied.reduce((n, [, v]) => n + v, 0);
  lines.push(`decisions: ${count(d.decided)} decided, ${count(deniedTotal)} refused, ${count(d.faults)} faults  (policy.mode ${s.policyMode})`);
  if (denied.length > 0) lines.push(`  refused:  ${denied.map(([reason, n]) => `${reason} ${count(n)}`).join(', ')}`);
  if (d.wouldRefuse > 0) lines.push(`  shadow:   ${count(d.wouldRefuse)} would have been refused and were forwarded (shadow mode)`);
  const l = r.licenses;
  lines.push(
    `licences:  ${count(l.projects.active)} projects active, ${count(l.projects.expired)} expired, ${count(l.projects['not-yet-valid'])} not yet valid, ` +
      `${count(l.projects.unrestricted)} unrestricted; ${count(l.numbers)} numbers; app installs ${count(l.installs.licensed)} licensed, ${count(l.installs.unlicensed)} not`,
  );
  lines.push(`  snapshot checked ${l.snapshotAgeSeconds.toFixed(1)} s ago; store ${r.store.writable ? 'writable' : `NOT writable (${r.store.fault ?? 'fault'})`}`);
  const o = r.outbox;
  const oldest = o.oldestPendingAgeSeconds === null ? '' : `, oldest pending ${formatDuration(o.oldestPendingAgeSeconds * 1000)}`;
  lines.push(`outbox:    ${count(o.byStatus.pending)} pending, ${count(o.byStatus.delivered)} delivered, ${count(o.byStatus.failed)} failed, ${count(o.byStatus.dead)} dead${oldest}`);
  return lines;
}
