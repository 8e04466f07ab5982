import { describe, expect, it } from 'vitest';
import { hopFromUri } from '../../src/sip/proxy/next-hop.js';

describe('hopFromUri', () => {
  it('reads transport, maddr and port of a sip: URI (RFC 3261 §19.1.1), UDP and 5060 by default', () => {
    expect(hopFromUri('sip:kamailio.test')).toEqual({ transport: 'udp', host: 'kamailio.test', port: 5060 });
    expect(hopFromUri('sip:a@10.0.0.1:5070;transport=TCP')).toEqual({ transport: 'tcp', host: '10.0.0.1', port: 5070 });
    expect(hopFromUri('sip:10.0.0.1;transport=tls;lr')).toEqual({ transport: 'tls', host: '10.0.0.1', port: 5061 });
  });

  it('sends a sips: URI over TLS (RFC 3261 §26.2.2), 5061 by default; WS becomes WSS (RFC 5630 §3.1.3)', () => {
    expect(hopFromUri('sips:1001@kamailio.test')).toEqual({ transport: 'tls', host: 'kamailio.test', port: 5061 });
    expect(hopFromUri('sips:kamailio.test:5071;lr')).toEqual({ transport: 'tls', host: 'kamailio.test', port: 5071 });
    expect(hopFromUri('sips:kamailio.test;transport=tcp')).toEqual({ transport: 'tls', host: 'kamailio.test', port: 5061 });
    expect(hopFromUri('sips:df7jal23ls0d.invalid;transport=ws')).toEqual({ transport: 'wss', host: 'df7jal23ls0d.invalid', port: 5061 });
  });

  it('cannot reach a sips: URI over UDP, tel: URIs or unknown transports', () => {
    expect(hopFromUri('sips:kamailio.test;transport=udp')).toBeNull();
    expect(hopFromUri('tel:+15551234')).toBeNull();
    expect(hopFromUri('sip:kamailio.test;transport=sctp')).toBeNull();
  });
});
