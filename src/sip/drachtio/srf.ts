import Srf from 'drachtio-srf';
import type { SrfClient } from './drachtio-types.js';

/** A new, unconnected drachtio-srf `Srf`, seen through our own narrow interface. */
export function createSrf(): SrfClient {
  return asSrfClient(new Srf());
}

/**
 * An application's own drachtio-srf `Srf` seen through our narrow interface, for
 * `DrachtioConnection` and `proxyMiddleware`: the one place where drachtio-srf's drifted
 * declarations are set aside (see drachtio-types.ts).
 */
export function asSrfClient(srf: Srf): SrfClient {
  return srf as unknown as SrfClient;
}
