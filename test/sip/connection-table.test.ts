import { describe, expect, it } from 'vitest';
import { ConnectionTable, type StreamConnection } from '../../src/sip/connection-table.js';

class Conn implements StreamConnection {
  destroyed = false;
  readonly written: Buffer[] = [];
  write(data: Buffer): void {
    this.written.push(data);
  }
  destroy(): void {
    this.destroyed = true;
  }
}

describe('ConnectionTable', () => {
  it('finds connections by remote address and by RFC 5923 alias, and forgets all keys on removal', () => {
    const table = new ConnectionTable<Conn>({ maxConnections: 10, idleTimeoutMs: 60_000 });
    try {
      const conn = new Conn();
      const entry = table.add('10.0.0.5|40000', conn);
      expect(entry).not.toBeNull();
      if (entry === null) return;
      table.alias(entry, '10.0.0.5|5060');
      expect(table.get('10.0.0.5|5060')?.connection).toBe(conn);
      table.remove(entry);
      expect(table.get('10.0.0.5|40000')).toBeUndefined();
      expect(table.get('10.0.0.5|5060')).toBeUndefined();
    } finally {
      table.closeAll();
    }
  });

  it('refuses connections past its bound', () => {
    const table = new ConnectionTable<Conn>({ maxConnections: 2, idleTimeoutMs: 60_000 });
    try {
      expect(table.add('a|1', new Conn())).not.toBeNull();
      expect(table.add('a|2', new Conn())).not.toBeNull();
      expect(table.add('a|3', new Conn())).toBeNull();
      expect(table.size).toBe(2);
    } finally {
      table.closeAll();
    }
  });

  it('closes idle connections when swept, and keeps active ones', () => {
    const table = new ConnectionTable<Conn>({ maxConnections: 10, idleTimeoutMs: 1000 });
    try {
      const idle = new Conn();
      const busy = new Conn();
      const e1 = table.add('a|1', idle);
      const e2 = table.add('a|2', busy);
      if (e1 === null || e2 === null) throw new Error('table full');
      e1.lastActivity = 0;
      e2.lastActivity = 5000;
      table.sweep(5500);
      expect(idle.destroyed).toBe(true);
      expect(busy.destroyed).toBe(false);
      expect(table.get('a|1')).toBeUndefined();
      expect(table.get('a|2')?.connection).toBe(busy);
    } finally {
      table.closeAll();
    }
  });

  it('closes everything on closeAll', () => {
    const table = new ConnectionTable<Conn>({ maxConnections: 10, idleTimeoutMs: 1000 });
    const c = new Conn();
    table.add('a|1', c);
    table.closeAll();
    expect(c.destroyed).toBe(true);
    expect(table.size).toBe(0);
  });
});
