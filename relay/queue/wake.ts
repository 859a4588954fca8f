/**
 * Deciding a waiting deployment's queue gates through its run's Durable Object, as a callback
 * would: success when it becomes the holder, failure when a newer deployment replaces it. The
 * parked job's resume then follows from the run object's own rules (SPEC §9).
 */
import type { RunObject } from '../run/object.ts';
import type { Wake } from './rules.ts';

/** The bindings the queue object reads. */
export interface QueueEnv {
  RUNS: DurableObjectNamespace<RunObject>;
}

/** Tries per gate: a run object that is being reset or moved answers the second. */
const TRIES = 2;

/** Decides every gate of `wakes`; a gate already final (its job gave up or was canceled) is left as it is. */
export async function sendWakes(env: QueueEnv, wakes: readonly Wake[]): Promise<void> {
  await Promise.all(wakes.flatMap((wake) => wake.gateIds.map((gateId) => decide(env, wake, gateId))));
}

async function decide(env: QueueEnv, wake: Wake, gateId: string): Promise<void> {
  const run = env.RUNS.get(env.RUNS.idFromName(wake.runId));
  for (let tries = 1; tries <= TRIES; tries++) {
    try {
      const result = await run.callback(gateId, { success: wake.success, mdMessage: wake.mdMessage });
      // rate-limited cannot happen in practice (60 posts a minute per gate); final and conflict need nothing more.
      if (result.ok || result.reason !== 'rate-limited') return;
    } catch (error) {
      if (tries === TRIES) console.error('deploy queue: could not decide a queue gate', wake.runId, error instanceof Error ? error.message : String(error));
    }
  }
}
