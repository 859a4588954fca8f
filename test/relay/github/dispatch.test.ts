/**
 * The resume dispatch as GitHub sees it (relay/github/dispatch.ts, relay/github/app.ts,
 * relay/run/resume-sender.ts), against the fake GitHub of vitest.config.ts: the App JWT and
 * installation token, the body, GitHub's answers, retries and the cases where nothing is sent.
 */
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Parking } from '../../../relay/run/parking.ts';
import { newRunId, runInObject, runStub, sleep } from '../helpers.ts';
import {
  fireAlarmNow,
  githubLog,
  newRepository,
  park,
  parkRequest,
  resume,
  runView,
  scriptGitHub,
  settledDispatch,
  storedDispatches,
} from '../park.ts';

/** Waits until the run's first dispatch has been tried `tries` times. */
async function triedTimes(runId: string, tries: number): Promise<{ state: string; next_at: number | null; tries: number }> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const row = (await storedDispatches(runId))[0];
    if (row && row.tries >= tries) return row;
    if (Date.now() > deadline) throw new Error(`dispatch of ${runId} not tried ${tries} times`);
    await sleep(20);
  }
}

// The alarm sends dispatches on its own time: a loaded machine may need more than the default 5 s.
describe('the resume dispatch', { timeout: 30_000 }, () => {
  it('mints an installation token once an hour: a second dispatch to the repository reuses it', async () => {
    const repository = newRepository();
    const first = newRunId('token-1');
    await park(first, repository);
    expect((await settledDispatch(first)).state).toBe('sent');
    const second = newRunId('token-2');
    await park(second, repository);
    expect((await settledDispatch(second)).state).toBe('sent');
    const log = await githubLog(repository);
    expect(log.dispatches.map((sent) => sent.inputs)).toEqual([{ 'hookgate-resume': first }, { 'hookgate-resume': second }]);
    expect(log.tokens).toHaveLength(1);
    expect(log.lookups).toBe(1);
  });

  it('is sent without run details when GitHub answers 204', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'no-content' });
    const runId = newRunId('no-content');
    await park(runId, repository);
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent', runId: null, runUrl: null, error: null });
  });

  it('is sent again at once without return_run_details when GitHub refuses that parameter (older GHES)', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'ghes' });
    const runId = newRunId('ghes');
    await park(runId, repository, { resume: { repository, workflow: '.github/workflows/release.yaml', ref: 'refs/tags/v1.2.3' } });
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent', tries: 1, runId: null, runUrl: null });
    expect((await githubLog(repository)).dispatches).toEqual([
      { ref: 'v1.2.3', inputs: { 'hookgate-resume': runId }, returnRunDetails: undefined, workflow: 'release.yaml' },
    ]);
  });

  it('is retried with backoff while GitHub refuses, then reported failed with GitHub’s message', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'refuse' });
    const runId = newRunId('refused');
    await park(runId, repository);
    const once = await triedTimes(runId, 1);
    expect(once.state).toBe('due');
    const view = await runView(runId);
    expect(view.dispatch).toMatchObject({ state: 'due', tries: 1, error: "GitHub answered 422: Workflow does not have 'workflow_dispatch' trigger" });
    expect((once.next_at ?? 0) - (view.dispatch?.updatedAt ?? 0)).toBe(2000);
    const twice = await triedTimes(runId, 2);
    expect((twice.next_at ?? 0) - ((await runView(runId)).dispatch?.updatedAt ?? 0)).toBe(4000);

    // RESUME_RETRY_SECONDS (120 in the tests) after the first try, the next refusal is final.
    await runInObject(runId, (state) => {
      state.storage.sql.exec('UPDATE dispatches SET first_try_at = first_try_at - 121000, next_at = ?', Date.now());
    });
    await fireAlarmNow(runId);
    const failed = await settledDispatch(runId);
    expect(failed).toMatchObject({ state: 'failed', tries: 3, error: "GitHub answered 422: Workflow does not have 'workflow_dispatch' trigger" });
    expect((await githubLog(repository)).dispatches).toHaveLength(0);
    // The park stays parked: a person can still resume.
    expect((await runView(runId)).parks[0]?.state).toBe('parked');
  });

  it('says so when the App is not installed on the repository', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { installed: false });
    const runId = newRunId('not-installed');
    await park(runId, repository);
    await triedTimes(runId, 1);
    expect((await runView(runId)).dispatch).toMatchObject({ state: 'due', error: 'GitHub answered 404: Not Found' });
    await scriptGitHub(repository, { installed: true });
    await runInObject(runId, (state) => {
      state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now());
    });
    await fireAlarmNow(runId);
    expect((await settledDispatch(runId)).state).toBe('sent');
  });

  it('is unneeded, and nothing is sent, when a run started by hand claimed the park first', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'error' });
    const runId = newRunId('unneeded');
    await park(runId, repository);
    await triedTimes(runId, 1);
    expect((await resume(runId, { requested: true })).continuing).toBe(true);
    await scriptGitHub(repository, { dispatch: 'details' });
    await runInObject(runId, (state) => {
      state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now());
    });
    await fireAlarmNow(runId);
    expect((await settledDispatch(runId)).state).toBe('unneeded');
    expect((await githubLog(repository)).dispatches).toHaveLength(0);
  });

  it('is manual at once without a GitHub App, and for a ref that is neither a branch nor a tag', async () => {
    const repository = newRepository();
    const runId = newRunId('manual');
    const stub = runStub(runId);
    // The tests' relay has an App: a Parking without one, over the object's own tables.
    await park(runId, repository, { job: 'seed', gateIds: [] });
    const answer = await runInDurableObject(stub, (_instance, state) => {
      const parking = new Parking(state.storage.sql, {});
      const result = parking.park(parkRequest(runId, repository, { job: 'prod' }), Date.now());
      parking.checkDue(Date.now());
      return result;
    });
    expect(answer).toMatchObject({ ok: true, park: { job: 'prod', resume: 'manual', reason: expect.stringContaining('no GitHub App') } });
    const view = await runView(runId);
    expect(view.dispatch).toMatchObject({ state: 'manual', error: expect.stringContaining('GITHUB_APP_ID') });

    const pull = newRunId('manual-ref');
    const parked = await park(pull, repository, { resume: { repository, workflow: '.github/workflows/deploy.yml', ref: 'refs/pull/7/merge' } });
    expect(parked).toEqual({ job: '*', resume: 'manual', reason: expect.stringContaining('refs/pull/7/merge') });
    expect((await runView(pull)).dispatch).toMatchObject({ state: 'manual', tries: 0 });
  });
});
