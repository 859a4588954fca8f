/**
 * The alarm's part of resuming: it sends every due dispatch (relay/github/dispatch.ts) and
 * records GitHub's answer. A refusal is retried with backoff (relay/run/retry.ts); past the
 * retry time the dispatch is `failed` with GitHub's message; the parks stay parked, so a person can still resume.
 */
import { appSetup } from '../github/app-config.ts';
import { dispatchResume } from '../github/dispatch.ts';
import type { RunEnv } from './env.ts';
import type { DispatchRow, ParkStore } from './park-store.ts';
import { nextTry } from './retry.ts';

/** Sends the dispatches due by now, one after another; each answer is stored as it comes. */
export async function sendDue(store: ParkStore, env: RunEnv): Promise<void> {
  for (const row of store.dueDispatches(Date.now())) await sendOne(store, env, row);
}

async function sendOne(store: ParkStore, env: RunEnv, row: DispatchRow): Promise<void> {
  const started = Date.now();
  const keep = { tries: row.tries, error: row.error, resumed_run_id: null, resumed_run_url: null, first_try_at: row.first_try_at };
  // Every job it was for was continued by a run started by hand: a dispatch would start a second run.
  if (store.parkedFor(row.id) === 0) {
    store.updateDispatch(row.id, { ...keep, state: 'unneeded', next_at: null }, started);
    return;
  }
  const setup = appSetup(env);
  if (!setup.app) {
    store.updateDispatch(row.id, { ...keep, state: 'manual', error: setup.message, next_at: null }, started);
    return;
  }
  const firstTry = row.first_try_at ?? started;
  const target = { repository: row.repository, workflow: row.workflow, ref: row.ref };
  const answer = await dispatchResume(setup.app, target, row.deployment_id);
  const now = Date.now();
  if (answer.ok) {
    const sent = { tries: row.tries + 1, error: null, resumed_run_id: answer.runId, resumed_run_url: answer.runUrl };
    store.updateDispatch(row.id, { ...sent, state: 'sent', next_at: null, first_try_at: firstTry }, now);
    return;
  }
  const tries = row.tries + 1;
  const next = nextTry(env, tries, firstTry, now);
  store.updateDispatch(row.id, { ...keep, tries, error: answer.message, state: next === null ? 'failed' : 'due', next_at: next, first_try_at: firstTry }, now);
}
