/**
 * The alarm's part of resuming: it sends every due dispatch (relay/github/dispatch.ts) and
 * records GitHub's answer. A refusal is retried with backoff (relay/run/retry.ts); past the
 * retry time the dispatch is `failed` with GitHub's message; the parks stay parked, so a person can still resume.
 *
 * Exactly once across a stopped relay: `sending_at` is stored before the request leaves and
 * cleared by a definite answer. A row still marked was sent with an unknown outcome (the relay
 * stopped, or the connection broke, before GitHub's answer was stored): GitHub is asked first
 * whether that send started a run (relay/github/resumed-run.ts), and only a "no" sends again.
 */
import { appSetup } from '../github/app-config.ts';
import type { GitHubApp } from '../github/app-config.ts';
import { dispatchResume } from '../github/dispatch.ts';
import { findResumedRun } from '../github/resumed-run.ts';
import type { RunEnv } from './env.ts';
import type { DispatchRow, DispatchUpdate, ParkStore } from './park-store.ts';
import { nextTry } from './retry.ts';

/** How long after a send in doubt GitHub is asked about it: a dispatched run takes a moment to be listed. */
export const SETTLE_MS = 5_000;

/** Sends the dispatches due by now, one after another; each answer is stored as it comes. */
export async function sendDue(store: ParkStore, env: RunEnv): Promise<void> {
  for (const row of store.dueDispatches(Date.now())) await sendOne(store, env, row);
}

async function sendOne(store: ParkStore, env: RunEnv, row: DispatchRow): Promise<void> {
  const started = Date.now();
  const keep: Omit<DispatchUpdate, 'state' | 'next_at'> = {
    tries: row.tries,
    error: row.error,
    resumed_run_id: null,
    resumed_run_url: null,
    first_try_at: row.first_try_at,
    sending_at: row.sending_at ?? null,
  };
  const inDoubt = row.sending_at ?? null;
  const parked = store.parkedFor(row.id);
  // Every job it was for was continued by a run started by hand: a dispatch would start a second run.
  if (parked === 0 && inDoubt === null) {
    store.updateDispatch(row.id, { ...keep, state: 'unneeded', next_at: null }, started);
    return;
  }
  const setup = appSetup(env);
  if (!setup.app) {
    const state = parked === 0 ? 'unneeded' : 'manual';
    store.updateDispatch(row.id, { ...keep, state, error: parked === 0 ? row.error : setup.message, next_at: null }, started);
    return;
  }
  if (inDoubt !== null && !(await settleDoubt(store, env, setup.app, row, inDoubt, parked))) return;
  await send(store, env, setup.app, row);
}

/**
 * Settles a send in doubt: true when the dispatch is to be sent (now); false when the row was
 * stored otherwise (sent by that send, unneeded, or the question retried later).
 */
async function settleDoubt(store: ParkStore, env: RunEnv, app: GitHubApp, row: DispatchRow, sentAt: number, parked: number): Promise<boolean> {
  const now = Date.now();
  if (now < sentAt + SETTLE_MS) {
    store.postponeDispatch(row.id, sentAt + SETTLE_MS, now);
    return false;
  }
  const answer = await findResumedRun(app, { repository: row.repository, workflow: row.workflow, ref: row.ref }, sentAt);
  const at = Date.now();
  const base = { tries: row.tries, first_try_at: row.first_try_at };
  if (answer.kind === 'found') {
    const sent = { ...base, error: null, resumed_run_id: answer.runId, resumed_run_url: answer.runUrl, sending_at: null };
    store.updateDispatch(row.id, { ...sent, state: 'sent', next_at: null }, at);
    return false;
  }
  if (answer.kind === 'failed') {
    const tries = row.tries + 1;
    const next = nextTry(env, tries, row.first_try_at ?? sentAt, at);
    // Past the retry time a second run (which fails: the parks are claimed) is better than no resume at all.
    if (next !== null) {
      const update = { ...base, tries, error: answer.message, resumed_run_id: null, resumed_run_url: null, sending_at: sentAt };
      store.updateDispatch(row.id, { ...update, state: 'due', next_at: next }, at);
      return false;
    }
  }
  if (parked > 0) return true;
  const update = { ...base, error: row.error, resumed_run_id: null, resumed_run_url: null, sending_at: null };
  store.updateDispatch(row.id, { ...update, state: 'unneeded', next_at: null }, at);
  return false;
}

async function send(store: ParkStore, env: RunEnv, app: GitHubApp, row: DispatchRow): Promise<void> {
  const started = Date.now();
  const firstTry = row.first_try_at ?? started;
  const target = { repository: row.repository, workflow: row.workflow, ref: row.ref };
  // In the same synchronous stretch as the request: the output gate holds the request until the mark is stored.
  store.markSending(row.id, started);
  const answer = await dispatchResume(app, target, row.deployment_id);
  const now = Date.now();
  const tries = row.tries + 1;
  if (answer.ok) {
    const sent = { tries, error: null, resumed_run_id: answer.runId, resumed_run_url: answer.runUrl, sending_at: null };
    store.updateDispatch(row.id, { ...sent, state: 'sent', next_at: null, first_try_at: firstTry }, now);
    return;
  }
  const next = nextTry(env, tries, firstTry, now);
  // A refusal started no run; a 5xx or a broken connection may have: the mark stays for the next try to ask.
  const sendingAt = answer.settled ? null : started;
  const update = { tries, error: answer.message, resumed_run_id: null, resumed_run_url: null, first_try_at: firstTry, sending_at: sendingAt };
  store.updateDispatch(row.id, { ...update, state: next === null ? 'failed' : 'due', next_at: next }, now);
}
