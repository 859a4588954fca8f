/**
 * The alarm's part of the deployment protection rule: it sends every due answer
 * (relay/github/protection-callback.ts) and records GitHub's reply. A refusal is retried as
 * resume dispatches are (relay/run/retry.ts); past the retry time the request is `failed` with GitHub's message,
 * and the deployment waits on GitHub's side until GitHub's own 30-day timeout or a person.
 */
import { appSetup } from '../github/app-config.ts';
import { callbackRun, sendProtectionAnswer } from '../github/protection-callback.ts';
import type { RunEnv } from './env.ts';
import type { ProtectionRow, ProtectionStore } from './protection-store.ts';
import { nextTry } from './retry.ts';

/** Sends the answers due by now, one after another; each reply is stored as it comes. */
export async function sendDueAnswers(store: ProtectionStore, env: RunEnv): Promise<void> {
  for (const row of store.dueBy(Date.now())) await sendOne(store, env, row);
}

async function sendOne(store: ProtectionStore, env: RunEnv, row: ProtectionRow): Promise<void> {
  const started = Date.now();
  const firstTry = row.first_try_at ?? started;
  const setup = appSetup(env);
  // Without the App (its configuration removed since the request came) nothing can answer: no retry helps.
  if (!setup.app || row.answer === null) {
    const error = setup.app ? 'no answer was stored' : setup.message;
    store.update(row.id, { state: 'failed', tries: row.tries, error, next_at: null, first_try_at: firstTry }, started);
    return;
  }
  const run = callbackRun(row.callback_url, setup.app.apiUrl, row.repository);
  if ('problem' in run) {
    store.update(row.id, { state: 'failed', tries: row.tries, error: run.problem, next_at: null, first_try_at: firstTry }, started);
    return;
  }
  const answer = { environment: row.environment, state: row.answer, comment: row.comment ?? '' };
  const result = await sendProtectionAnswer(setup.app, row.repository, run, answer);
  const now = Date.now();
  const tries = row.tries + 1;
  if (result.ok) {
    store.update(row.id, { state: 'sent', tries, error: null, next_at: null, first_try_at: firstTry }, now);
    return;
  }
  const next = nextTry(env, tries, firstTry, now);
  store.update(row.id, { state: next === null ? 'failed' : 'due', tries, error: result.message, next_at: next, first_try_at: firstTry }, now);
}
