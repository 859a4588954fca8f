/**
 * Deciding a waiting deployment's queue gates through its run's Durable Object, as a callback
 * would: success when it becomes the holder, failure when a newer deployment replaces it. The
 * parked job's resume then follows from the run object's own rules (SPEC §9). The decisions come
 * from the queue's outbox (relay/queue/store.ts): one not sent is tried again by the alarm.
 */
import type { RunObject } from '../run/object.ts';
import type { OutboxWake } from './store.ts';

/** The bindings the queue object reads. */
export interface QueueEnv {
  RUNS: DurableObjectNamespace<RunObject>;
}

/** Tries of one decision before it is given up (logged): about a day of backoff. */
export const MAX_WAKE_TRIES = 12;

/** When a decision that failed `tries` times is tried again: 10 s doubling, at most 4 hours. */
export function wakeRetryAt(tries: number, now: number): number {
  return now + Math.min(10_000 * 2 ** (tries - 1), 4 * 3_600_000);
}

/**
 * Sends one decision; true once the run object took it or needs nothing more (the gate is final,
 * decided otherwise, or gone), false when it should be tried again.
 */
export async function sendWake(env: QueueEnv, wake: OutboxWake): Promise<boolean> {
  const run = env.RUNS.get(env.RUNS.idFromName(wake.runId));
  try {
    const result = await run.callback(wake.gateId, { success: wake.success, mdMessage: wake.mdMessage });
    return result.ok || result.reason !== 'rate-limited';
  } catch (error) {
    console.error('deploy queue: could not decide a queue gate', wake.runId, error instanceof Error ? error.message : String(error));
    return false;
  }
}
