/**
 * When the alarm tries again what GitHub refused (a resume dispatch, a protection-rule answer):
 * 2, 4, 8 … seconds after the last try, at most 5 minutes apart, until RESUME_RETRY_SECONDS
 * (default an hour) after the first try.
 */
import { DEFAULT_RESUME_RETRY_SECONDS } from '../../shared/park.ts';
import { resumeRetrySeconds } from '../github/app-config.ts';
import type { RunEnv } from './env.ts';

const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** The time of the next try after `tries` refused ones; null once the retry time since `firstTry` is over. */
export function nextTry(env: RunEnv, tries: number, firstTry: number, now: number): number | null {
  const retryMs = (resumeRetrySeconds(env.RESUME_RETRY_SECONDS) ?? DEFAULT_RESUME_RETRY_SECONDS) * 1000;
  return now - firstTry >= retryMs ? null : now + Math.min(2 ** tries * 1000, MAX_BACKOFF_MS);
}
