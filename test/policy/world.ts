import { DAY, snapshotOf, T0 } from './fixtures.js';

/** The validity window of the restricted test groups: [FROM, UNTIL). */
export const FROM = T0;
export const UNTIL = T0 + 30 * DAY;
/** Inside the window. */
export const NOW = T0 + 10 * DAY;

/**
 * One snapshot with a tree for each situation the rules distinguish. Numbers are listed in
 * creation order, installs in licensing order, so the ranks are their positions.
 */
export const WORLD = snapshotOf([
  // Restrictions off: limits of 0 mean nothing.
  {
    rootId: 1,
    name: 'open',
    restrictions: false,
    virtualNumbers: 0,
    mobileApps: 0,
    validity: true,
    validUntil: FROM,
    users: [{ userId: 10 }],
    numbers: [['1001', 10]],
    installs: [['o1', '1001', 10]],
  },
  // 3 numbers, 2 apps, window [FROM, UNTIL); bob has personal caps of 1 number and 1 app.
  {
    rootId: 2,
    name: 'sunrise',
    virtualNumbers: 3,
    mobileApps: 2,
    validity: true,
    validFrom: FROM,
    validUntil: UNTIL,
    users: [{ userId: 20, login: 'alice' }, { userId: 21, login: 'bob', personalNumbers: 1, personalApps: 1 }],
    numbers: [
      ['2001', 20],
      ['2002', 21],
      ['2003', 21], // bob's second number: beyond his personal cap of 1
      ['2004', 20], // the tree's fourth: beyond the limit of 3
    ],
    installs: [
      ['a1', '2001', 20],
      ['b1', '2002', 21],
    ],
  },
  // Free app licenses in the tree; dave's personal app cap (1) is used up.
  {
    rootId: 3,
    name: 'harbour',
    virtualNumbers: 10,
    mobileApps: 5,
    users: [{ userId: 30, login: 'dave', personalApps: 1 }, { userId: 31, login: 'erin' }],
    numbers: [
      ['3001', 30],
      ['3002', 30],
      ['3003', 31],
    ],
    installs: [['d1', '3001', 30]],
  },
  // Four licensed installs, but the app limit was lowered to 3 and gina's personal apps to 0.
  {
    rootId: 4,
    name: 'lowered',
    virtualNumbers: 5,
    mobileApps: 3,
    users: [{ userId: 40, login: 'frank' }, { userId: 41, login: 'gina', personalApps: 0 }],
    numbers: [
      ['4001', 40],
      ['4002', 40],
      ['4003', 41],
      ['4004', 40],
    ],
    installs: [
      ['f1', '4001', 40],
      ['4004', '4004', 40], // an app that registered without any install id
      ['g1', '4003', 41],
      ['f2', '4002', 40],
    ],
  },
  // Window opens at UNTIL (not yet valid at NOW).
  { rootId: 5, name: 'future', validity: true, validFrom: UNTIL, users: [{ userId: 50 }], numbers: [['5001', 50]] },
  // Window closed at FROM (expired at NOW).
  {
    rootId: 6,
    name: 'past',
    validity: true,
    validUntil: FROM,
    users: [{ userId: 60 }],
    numbers: [['6001', 60]],
    installs: [['p1', '6001', 60]],
  },
  // Validity on with both bounds open: always active.
  { rootId: 7, name: 'always', validity: true, users: [{ userId: 70 }], numbers: [['7001', 70]] },
  // Expired and over its number limit.
  {
    rootId: 8,
    name: 'past-full',
    virtualNumbers: 1,
    mobileApps: 1,
    validity: true,
    validUntil: FROM,
    users: [{ userId: 80 }],
    numbers: [
      ['8001', 80],
      ['8002', 80],
    ],
  },
]);
