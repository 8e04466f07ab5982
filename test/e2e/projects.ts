import type { ProjectSpec } from './sidecar-fixture.js';

/**
 * The projects the end-to-end files share, one per licence state. Windows are far from today so
 * the real clock can be used: 2020 … 2100 is open, 2099 … 2100 not yet, 2020 … 2021 over.
 */
export const OPEN_FROM = '2020-01-01T00:00:00Z';
export const OPEN_UNTIL = '2100-01-01T00:00:00Z';

/** Restrictions on, window open, three numbers. */
export const SUNRISE: ProjectSpec = { group: 'Sunrise', validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['1001', '1002', '1003'] };

/** Three numbers, limit lowered to two afterwards: 3003 (the newest) is over the limit. */
export const CROWDED: ProjectSpec = {
  group: 'Crowded',
  validFrom: OPEN_FROM,
  validUntil: OPEN_UNTIL,
  numbers: ['3001', '3002', '3003'],
  lowerNumbersTo: 2,
};

/** Window opens in 2099. */
export const FUTURE: ProjectSpec = { group: 'Future', validFrom: '2099-01-01T00:00:00Z', validUntil: OPEN_UNTIL, numbers: ['4001'] };

/** Window closed in 2021. */
export const LAPSED: ProjectSpec = {
  group: 'Lapsed',
  validFrom: OPEN_FROM,
  validUntil: '2021-01-01T00:00:00Z',
  numbers: ['5001', '5002'],
};

/** A number no project owns. */
export const UNKNOWN_NUMBER = '9001';
