import { describe, expect, it } from 'vitest';
import { ConnectionAdmission } from '../../src/sip/transports/connection-limits.js';
import { ConnectionTable, type StreamConnection } from '../../src/sip/transports/connection-table.js';

/** A connection whose peer reads nothing: what is written stays queued. */
class Conn implements StreamConnection {
  destroyed = false;
  queuedBytes = 0;
  write(data: Buffer): void {
    this.queuedBytes += data.length;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const LIMITS = { connectionLifetimeMs: 60_000, messageReadTimeoutMs: 10_000, connectionWriteQueueMax: 1000 };

function table(limits: Partial<typeof LIMITS> = {}): ConnectionTable<Conn> {
  return new ConnectionTable<Conn>({ ...LIMITS, ...limits });
}

describe('ConnectionTable', () => {
  it('finds connections by remote address only, and forgets them on removal', () => {
    const t = table();
    try {
      const conn = new Conn();
      const entry = t.add('10.0.0.5|40000', conn, true);
      expect(t.get('10.0.0.5|40000')?.connection).toBe(conn);
      expect(t.get('10.0.0.5|5060')).toBeUndefined();
      t.remove(entry);
      expect(t.get('10.0.0.5|40000')).toBeUndefined();
    } finally {
      t.closeAll();
    }
  });

  it('closes and counts a connection whose peer leaves more than connectionWriteQueueMax unread', () => {
    const t = table();
    try {
      const conn = new Conn();
      const entry = t.add('a|1', conn, false);
      expect(t.write(entry, Buffer.alloc(600))).toBe(true);
      expect(t.write(entry, Buffer.alloc(400))).toBe(true);
      expect(t.write(entry, Buffer.alloc(1))).toBe(false);
      expect(conn.destroyed).toBe(true);
      expect(conn.queuedBytes).toBe(1000);
      expect(t.get('a|1')).toBeUndefined();
      expect(t.write(entry, Buffer.alloc(1))).toBe(false);
      expect(t.report()).toMatchObject({ closedWriteQueue: 1, open: 0, queuedBytes: 0 });
    } finally {
      t.closeAll();
    }
  });

  it('closes idle connections when swept, and keeps active ones', () => {
    const t = table({ connectionLifetimeMs: 1000 });
    try {
      const idle = new Conn();
      const busy = new Conn();
      const e1 = t.add('a|1', idle, false, 0);
      const e2 = t.add('a|2', busy, false, 0);
      t.received(e2, true, false, 5000);
      t.sweep(5500);
      expect(idle.destroyed).toBe(true);
      expect(busy.destroyed).toBe(false);
      expect(t.get('a|1')).toBeUndefined();
      expect(t.get('a|2')).toBe(e2);
      expect(e1.key).toBe('a|1');
      expect(t.stats.closedIdle).toBe(1);
    } finally {
      t.closeAll();
    }
  });

  it('does not let bytes of an unfinished message keep a connection alive, and times the message out', () => {
    const t = table({ connectionLifetimeMs: 30_000, messageReadTimeoutMs: 20_000 });
    try {
      const dribbler = new Conn();
      const entry = t.add('a|1', dribbler, false, 0);
      // One byte every 10 s: never a complete message.
      for (let at = 10_000; at <= 30_000; at += 10_000) {
        t.received(entry, false, true, at);
        t.sweep(at);
      }
      // Begun at 10 s, still unfinished at 30 s: over the 20 s read timeout.
      expect(dribbler.destroyed).toBe(true);
      expect(t.stats).toMatchObject({ closedReadTimeout: 1, closedIdle: 0 });
    } finally {
      t.closeAll();
    }
  });

  it('gives an accepted connection the read timeout to bring its first message', () => {
    const t = table({ connectionLifetimeMs: 600_000, messageReadTimeoutMs: 20_000 });
    try {
      const silent = new Conn();
      const talking = new Conn();
      t.add('a|1', silent, true, 0);
      const e2 = t.add('a|2', talking, true, 0);
      const dialled = new Conn();
      t.add('b|1', dialled, false, 0);
      t.received(e2, true, false, 1000);
      t.sweep(20_000);
      expect([silent.destroyed, talking.destroyed, dialled.destroyed]).toEqual([true, false, false]);
    } finally {
      t.closeAll();
    }
  });

  it('restarts the read timeout with each message that a chunk completes while beginning the next', () => {
    const t = table({ messageReadTimeoutMs: 1000 });
    try {
      const conn = new Conn();
      const entry = t.add('a|1', conn, false, 0);
      t.received(entry, false, true, 100);
      t.received(entry, true, true, 900);
      t.sweep(1500);
      expect(conn.destroyed).toBe(false);
      t.sweep(1900);
      expect(conn.destroyed).toBe(true);
    } finally {
      t.closeAll();
    }
  });

  it('closes everything on closeAll', () => {
    const t = table();
    const c = new Conn();
    t.add('a|1', c, true);
    t.closeAll();
    expect(c.destroyed).toBe(true);
    expect(t.size).toBe(0);
  });
});

describe('ConnectionAdmission', () => {
  it('caps connections per source address and in total, and gives places back on release', () => {
    const admission = new ConnectionAdmission({ maxConnections: 3, maxConnectionsPerSource: 2 });
    expect(admission.admit('10.0.0.1')).toBe('ok');
    expect(admission.admit('10.0.0.1')).toBe('ok');
    expect(admission.admit('10.0.0.1')).toBe('per-source');
    expect(admission.admit('10.0.0.2')).toBe('ok');
    expect(admission.admit('10.0.0.3')).toBe('total');
    admission.release('10.0.0.1');
    expect(admission.open).toBe(2);
    expect(admission.admit('10.0.0.3')).toBe('ok');
    expect(admission.admit('10.0.0.1')).toBe('total');
    admission.release('10.0.0.9');
    expect(admission.open).toBe(3);
  });
});
