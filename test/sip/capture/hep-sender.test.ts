import { afterEach, describe, expect, it } from 'vitest';
import { HepSender } from '../../../src/sip/capture/hep-sender.js';
import { freePort } from '../../support/ports.js';
import { HepCollector } from './hep-collector.js';

/** A hang guard for the polls below, not a speed assertion. */
const WAIT_MS = 5000;

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${WAIT_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const PACKET = Buffer.from('HEP3\u0000\u0006', 'latin1');

describe('HepSender: fire and forget, bounded', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('never holds more than maxInFlight packets: the rest are dropped and counted, not queued', async () => {
    const collector = await HepCollector.open();
    open.push(collector);
    const sender = await HepSender.open({ host: '127.0.0.1', port: collector.port, maxInFlight: 2 });
    open.push(sender);
    // Sends complete on a later tick, so ten in one go find two places.
    const accepted = Array.from({ length: 10 }, () => sender.send(PACKET)).filter(Boolean).length;
    expect(accepted).toBe(2);
    expect(sender.stats.dropped).toBe(8);
    await until(() => sender.stats.sent === 2, 'two packets sent');
    expect(sender.inFlight).toBe(0);
    expect(sender.send(PACKET)).toBe(true);
    await until(() => sender.stats.sent === 3, 'a third packet once there was room');
    expect(sender.send(null)).toBe(false);
    expect(sender.stats.dropped).toBe(9);
  });

  it('a collector that is not there costs packets, never an exception', async () => {
    const sender = await HepSender.open({ host: '127.0.0.1', port: await freePort() });
    open.push(sender);
    // Loopback answers ICMP port unreachable; a connected UDP socket reports it on a later send.
    await until(() => {
      expect(() => sender.send(PACKET)).not.toThrow();
      return sender.stats.failed > 0;
    }, 'a send failure counted');
    await until(() => sender.inFlight === 0, 'no send left waiting');
  });

  it('an unknown collector host fails at open, where serve turns capture off and says so', async () => {
    await expect(HepSender.open({ host: 'no-such-host.invalid', port: 9060 })).rejects.toThrow();
  });
});
