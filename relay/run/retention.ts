/**
 * How long a run's storage outlives its last activity. A run whose gates are all final and
 * that nobody wrote to for this long is deleted whole by its alarm (relay/run/object.ts).
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_RETENTION_MS = DEFAULT_RETENTION_DAYS * DAY_MS;
/** Ten years: past it the value is a typo, and setAlarm would be asked for a date beyond any run's life. */
const MAX_RETENTION_DAYS = 3650;

/**
 * RETENTION_DAYS in milliseconds: the default when unset or empty, null when it is not a
 * number of days greater than 0 and at most MAX_RETENTION_DAYS (fractions allowed).
 */
export function retentionMs(value: string | undefined): number | null {
  const text = (value ?? '').trim();
  if (text === '') return DEFAULT_RETENTION_MS;
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const days = Number(text);
  return days > 0 && days <= MAX_RETENTION_DAYS ? Math.round(days * DAY_MS) : null;
}
