import { describe, expect, it } from 'vitest';
import { instanceDigest } from '../../src/sip/proxy/flow-token.js';
import type { Flow } from '../../src/sip/transports/flow.js';
import { InstanceFlows } from '../../src/sip/proxy/instance-flows.js';

const first: Flow = { transport: 'ws', address: '192.0.2.7', port: 40000 };
const second: Flow = { transport: 'ws', address: '192.0.2.7', port: 40001 };
const ID = 'urn:uuid:0c1a3f9e-1111-4a4a-9c9c-123456789abc';

describe('InstanceFlows', () => {
  it('learns where an instance is only when the registrar accepted its REGISTER (a 2xx on that branch)', () => {
    const flows = new InstanceFlows();
    flows.registering('z9hG4bKsw1', first, ID);
    expect(flows.current(instanceDigest(ID))).toBeUndefined();
    flows.accepted('z9hG4bKsw1');
    expect(flows.current(instanceDigest(ID))).toEqual(first);
    expect(flows.instanceOf(first)?.equals(instanceDigest(ID))).toBe(true);

    // Someone else claims the instance from another connection: refused by the registrar (no 2xx).
    flows.registering('z9hG4bKsw2', second, ID);
    flows.accepted('z9hG4bKsw-other');
    expect(flows.current(instanceDigest(ID))).toEqual(first);

    // The client itself reconnects and registers again: accepted, it has moved.
    flows.registering('z9hG4bKsw3', second, ID);
    flows.accepted('z9hG4bKsw3');
    expect(flows.current(instanceDigest(ID))).toEqual(second);
    expect(flows.cached().entries).toBeGreaterThan(0);
  });
});
