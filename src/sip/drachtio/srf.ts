import Srf from 'drachtio-srf';
import type { SrfClient } from './drachtio-types.js';

/**
 * A new, unconnected drachtio-srf `Srf`, seen through our own narrow interface: the one place
 * where drachtio-srf's drifted declarations are set aside (see drachtio-types.ts).
 */
export function createSrf(): SrfClient {
  return new Srf() as unknown as SrfClient;
}
