import type { RunObject } from './run-object.ts';

/** Bindings and secrets of the relay Worker (relay/wrangler.jsonc). */
export interface Env {
  RUNS: DurableObjectNamespace<RunObject>;
  /** Bearer secret the action presents (`wrangler secret put RELAY_TOKEN`). */
  RELAY_TOKEN?: string;
  /** Key that binds callback and approval tokens to their run and gate (`wrangler secret put CALLBACK_SECRET`). */
  CALLBACK_SECRET?: string;
  /** Public origin used in callback and approval URLs; defaults to the origin the action called. */
  PUBLIC_URL?: string;
}

/** The Durable Object that owns a run. */
export function runObject(env: Env, runId: string): DurableObjectStub<RunObject> {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}
