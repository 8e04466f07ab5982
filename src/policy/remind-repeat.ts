/** How often `license.expiring` is repeated once the reminder lead time is reached. */
export const REMIND_REPEATS = ['once', 'daily', 'weekly', 'monthly'] as const;

export type RemindRepeat = (typeof REMIND_REPEATS)[number];
