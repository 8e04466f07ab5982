import { describe, expect, it } from 'vitest';
import { clientTarget } from '../../src/sip/proxy/client-target.js';
import type { Flow } from '../../src/sip/transports/flow.js';

const up = (): boolean => true;
const down = (): boolean => false;
const udp: Flow = { transport: 'udp', address: '192.0.2.7', port: 40000 };
const tcp: Flow = { transport: 'tcp', address: '192.0.2.7', port: 40001 };
const ws: Flow = { transport: 'ws', address: '192.0.2.7', port: 40002 };

describe('clientTarget', () => {
  it('UDP: the Contact port when the Contact is on the address the client sends from, else the flow (NAT)', () => {
    expect(clientTarget(udp, 'sip:1001@192.0.2.7:5062', up)).toEqual({ ...udp, port: 5062 });
    expect(clientTarget(udp, 'sip:1001@192.0.2.7', up)).toEqual({ ...udp, port: 5060 });
    expect(clientTarget(udp, 'sip:1001@10.0.0.5:5062', up)).toEqual(udp);
    expect(clientTarget(udp, 'sip:1001@192.0.2.7:5062;transport=tcp', up)).toEqual(udp);
    expect(clientTarget(udp, 'tel:+15551234', up)).toEqual(udp);
  });

  it('TCP: the open connection; when it is gone, a new one to a TCP Contact on the same host', () => {
    expect(clientTarget(tcp, 'sip:1001@192.0.2.7:5062;transport=tcp', up)).toEqual(tcp);
    expect(clientTarget(tcp, 'sip:1001@192.0.2.7:5062;transport=TCP', down)).toEqual({ ...tcp, port: 5062 });
    expect(clientTarget(tcp, 'sip:1001@192.0.2.7:5062', down)).toEqual(tcp);
    expect(clientTarget(tcp, 'sip:1001@198.51.100.1:5062;transport=tcp', down)).toEqual(tcp);
  });

  it('WebSocket: always its connection (a server cannot open one to a client)', () => {
    expect(clientTarget(ws, 'sip:1001@192.0.2.7:5062;transport=ws', down)).toEqual(ws);
    const wss: Flow = { ...ws, transport: 'wss' };
    expect(clientTarget(wss, 'sip:1001@192.0.2.7:5062;transport=ws', down)).toEqual(wss);
  });

  it('TLS: its connection, never a new one (RFC 5626 §4.4: the client keeps its flow; the sidecar dials only its upstream)', () => {
    const tls: Flow = { ...tcp, transport: 'tls' };
    expect(clientTarget(tls, 'sip:1001@192.0.2.7:5062;transport=tls', down)).toEqual(tls);
    expect(clientTarget(tls, 'sips:1001@192.0.2.7:5062', down)).toEqual(tls);
  });
});
