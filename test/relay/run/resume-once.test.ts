/**
 * A resume dispatch is sent exactly once across a relay stopped mid-send (relay/run/resume-sender.ts,
 * relay/github/resumed-run.ts): the `sending_at` mark is stored before the request, and a row still
 * marked asks GitHub whether that send started a run before sending again. The kill is played two
 * ways: the fake accepts the dispatch (its run starts) but the answer is lost (502), or the mark is
 * set in storage with a run already at the fake and the object evicted, as a relay killed between
 * GitHub's 200 and its write would leave it.
 */
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SETTLE_MS } from '../../../relay/run/resume-sender.ts';
import { newRunId, runInObject, runStub, sleep } from '../helpers.ts';
import { fireAlarmNow, GITHUB, githubLog, newRepository, park, resume, runView, scriptGitHub, settledDispatch } from '../park.ts';
import { undoStep10 } from './stored.ts';

type FakeRun = { id: number; path: string; head_branch: string; event: string; created_at: string; html_url: string; actor: string };
type RunsLog = { started: FakeRun[]; listings: Record<string, string>[]; dispatches: unknown[] };
type Marked = { state: string; tries: number; sending_at: number | null; next_at: number | null; error: string | null };

const BOT = 'hookgate-relay-test[bot]';

async function runsLog(repository: string): Promise<RunsLog> {
  const res = await fetch(`${GITHUB}/_control/log?repository=${encodeURIComponent(repository)}`);
  return (await res.json()) as RunsLog;
}

/** Scripts the fake beyond test/relay/park.ts scriptGitHub: a lost answer, the runs list's answer, runs already started. */
async function scriptRuns(repository: string, script: { dispatch?: 'lost'; runs?: 'list' | 'error'; started?: FakeRun[] }): Promise<void> {
  const res = await fetch(`${GITHUB}/_control/script`, { method: 'POST', body: JSON.stringify({ repository, ...script }) });
  expect(res.status).toBe(200);
}

function marked(runId: string): Promise<Marked> {
  return runInObject(runId, (state) =>
    state.storage.sql.exec<Marked>('SELECT state, tries, sending_at, next_at, error FROM dispatches ORDER BY id LIMIT 1').one(),
  );
}

/** Waits until the run's dispatch has been tried `tries` times. */
async function triedTimes(runId: string, tries: number): Promise<Marked> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const row = await marked(runId);
    if (row.tries >= tries) return row;
    if (Date.now() > deadline) throw new Error(`dispatch of ${runId} not tried ${tries} times`);
    await sleep(20);
  }
}

/** Sets the mark as a relay killed mid-send leaves it: `agoMs` ago (past SETTLE_MS: GitHub is asked at once), due now. */
async function markInDoubt(runId: string, agoMs: number): Promise<void> {
  await runInObject(runId, (state) => {
    state.storage.sql.exec("UPDATE dispatches SET state = 'due', sending_at = ?, next_at = ?", Date.now() - agoMs, Date.now());
  });
}

/** GitHub's time format, whole seconds. */
function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A parked run whose first dispatch GitHub refused (nothing started); the row waits for its retry. */
async function refusedOnce(label: string): Promise<{ runId: string; repository: string }> {
  const repository = newRepository();
  await scriptGitHub(repository, { dispatch: 'refuse' });
  const runId = newRunId(label);
  await park(runId, repository);
  const row = await triedTimes(runId, 1);
  // A refusal is a definite answer: no mark.
  expect(row).toMatchObject({ state: 'due', sending_at: null });
  await scriptGitHub(repository, { dispatch: 'details' });
  return { runId, repository };
}

describe('a resume dispatch whose answer was lost', { timeout: 30_000 }, () => {
  it('is not sent again when GitHub had accepted it: the run it started is stored as the resume', async () => {
    const repository = newRepository();
    await scriptRuns(repository, { dispatch: 'lost' });
    const runId = newRunId('lost');
    await park(runId, repository);
    const lost = await triedTimes(runId, 1);
    // GitHub started the run, but the relay saw a 502: the mark stays, the next try must ask first.
    expect(lost).toMatchObject({ state: 'due', sending_at: expect.any(Number) });
    expect((lost.next_at ?? 0) - (lost.sending_at ?? 0)).toBeGreaterThanOrEqual(2000);
    await scriptGitHub(repository, { dispatch: 'details' });

    // The alarm's own retry: asked no earlier than SETTLE_MS after the send.
    const dispatch = await settledDispatch(runId, SETTLE_MS + 8000);
    const sentAt = lost.sending_at ?? 0;
    const log = await runsLog(repository);
    expect(log.dispatches).toHaveLength(1);
    expect(log.started).toHaveLength(1);
    expect(dispatch).toMatchObject({ state: 'sent', runId: String(log.started[0]?.id), runUrl: log.started[0]?.html_url, tries: 1, error: null });
    expect(log.listings).toEqual([
      { event: 'workflow_dispatch', branch: 'main', created: `${githubTime(Math.floor((sentAt - 1000) / 1000) * 1000)}..${githubTime(Math.ceil((sentAt + 11_000) / 1000) * 1000)}`, per_page: '100' },
    ]);
    expect(await marked(runId)).toMatchObject({ state: 'sent', sending_at: null });
    await sleep(200);
    expect((await runsLog(repository)).dispatches).toHaveLength(1);
  });

  it('is not sent again by a restarted object whose mark is stored and whose run GitHub lists', async () => {
    const { runId, repository } = await refusedOnce('killed');
    // The relay sent it, GitHub started the run, the relay was killed before storing the answer.
    const sentAt = Date.now() - SETTLE_MS - 1000;
    const run: FakeRun = { id: 8123, path: '.github/workflows/deploy.yml', head_branch: 'main', event: 'workflow_dispatch', created_at: githubTime(sentAt + 1000), html_url: `https://github.test/${repository}/actions/runs/8123`, actor: BOT };
    await scriptRuns(repository, { started: [run] });
    await markInDoubt(runId, SETTLE_MS + 1000);
    await evictDurableObject(runStub(runId));
    await fireAlarmNow(runId);
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent', runId: '8123', runUrl: run.html_url });
    expect((await githubLog(repository)).dispatches).toHaveLength(0);
  });

  it('waits SETTLE_MS after the send before asking: a run just dispatched may not be listed yet', async () => {
    const { runId, repository } = await refusedOnce('settle');
    await markInDoubt(runId, 0);
    await fireAlarmNow(runId);
    const deadline = Date.now() + 5000;
    let row = await marked(runId);
    while ((row.next_at ?? 0) <= (row.sending_at ?? 0) && Date.now() < deadline) {
      await sleep(20);
      row = await marked(runId);
    }
    expect(row).toMatchObject({ state: 'due', next_at: (row.sending_at ?? 0) + SETTLE_MS });
    expect((await runsLog(repository)).listings).toHaveLength(0);
    expect((await githubLog(repository)).dispatches).toHaveLength(0);
  });

  it('is sent (once) when GitHub lists no run of it: the send never arrived', async () => {
    const { runId, repository } = await refusedOnce('not-found');
    await markInDoubt(runId, SETTLE_MS + 1000);
    await fireAlarmNow(runId);
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent', runId: expect.stringMatching(/^\d+$/) });
    const log = await runsLog(repository);
    expect(log.listings).toHaveLength(1);
    expect(log.dispatches).toHaveLength(1);
  });

  it('takes no run of another actor, of another ref, or created outside the send’s seconds (another deployment’s) as its own', async () => {
    const { runId, repository } = await refusedOnce('others');
    const sentAt = Date.now() - SETTLE_MS - 1000;
    const base = { path: '.github/workflows/deploy.yml', head_branch: 'main', event: 'workflow_dispatch', created_at: githubTime(sentAt), html_url: 'https://github.test/x' };
    await scriptRuns(repository, {
      started: [
        { ...base, id: 1, actor: 'octocat' },
        { ...base, id: 2, actor: 'github-actions[bot]' },
        { ...base, id: 3, actor: BOT, head_branch: 'release' },
        { ...base, id: 4, actor: BOT, path: '.github/workflows/other.yml' },
        { ...base, id: 5, actor: BOT, created_at: githubTime(sentAt - 3000) },
        // Another deployment's resume of the same workflow and ref, sent after the relay restarted.
        { ...base, id: 6, actor: BOT, created_at: githubTime(sentAt + 14_000) },
      ],
    });
    await markInDoubt(runId, SETTLE_MS + 1000);
    await fireAlarmNow(runId);
    const dispatch = await settledDispatch(runId);
    expect(dispatch.state).toBe('sent');
    expect(['1', '2', '3', '4', '5', '6']).not.toContain(dispatch.runId);
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('is asked about again later when GitHub cannot say, never sent meanwhile', async () => {
    const repository = newRepository();
    await scriptRuns(repository, { dispatch: 'lost' });
    const runId = newRunId('check-failed');
    await park(runId, repository);
    const lost = await triedTimes(runId, 1);
    await scriptGitHub(repository, { dispatch: 'details' });
    await scriptRuns(repository, { runs: 'error' });
    await markInDoubt(runId, SETTLE_MS + 1000);
    await fireAlarmNow(runId);
    const failed = await triedTimes(runId, 2);
    expect(failed).toMatchObject({ state: 'due', error: expect.stringContaining('could not ask GitHub whether the resume started a run: GitHub answered 500') });
    // The mark stays: the next try asks again (a backoff of 4 s after the second try).
    expect(failed.sending_at).not.toBeNull();
    expect((failed.next_at ?? 0) - Date.now()).toBeGreaterThan(2000);
    expect((await runsLog(repository)).dispatches).toHaveLength(1);
    expect(lost.sending_at).not.toBeNull();

    await scriptRuns(repository, { runs: 'list' });
    await runInObject(runId, (state) => state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now()));
    await fireAlarmNow(runId);
    const log = await runsLog(repository);
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent', runId: String(log.started[0]?.id) });
    expect((await runsLog(repository)).dispatches).toHaveLength(1);
    expect((await runsLog(repository)).listings).toHaveLength(2);
  });

  it('is sent once the retry time is over though GitHub still cannot say: a second run beats no resume', async () => {
    const { runId, repository } = await refusedOnce('check-expired');
    await scriptRuns(repository, { runs: 'error' });
    await markInDoubt(runId, SETTLE_MS + 1000);
    // RESUME_RETRY_SECONDS is 120 in the tests.
    await runInObject(runId, (state) => state.storage.sql.exec('UPDATE dispatches SET first_try_at = first_try_at - 121000'));
    await fireAlarmNow(runId);
    expect(await settledDispatch(runId)).toMatchObject({ state: 'sent' });
    expect((await runsLog(repository)).listings).toHaveLength(1);
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('is unneeded when GitHub lists no run and a run started by hand claimed the park meanwhile', async () => {
    const { runId, repository } = await refusedOnce('by-hand');
    expect((await resume(runId, { requested: true })).continuing).toBe(true);
    await markInDoubt(runId, SETTLE_MS + 1000);
    await fireAlarmNow(runId);
    expect((await settledDispatch(runId)).state).toBe('unneeded');
    expect((await runsLog(repository)).listings).toHaveLength(1);
    expect((await githubLog(repository)).dispatches).toHaveLength(0);
  });
});

describe('schema step 10', () => {
  it('adds the sending mark to a run stored before it; its due dispatch is sent as before', async () => {
    const { runId, repository } = await refusedOnce('step10');
    await runInObject(runId, (state) => {
      undoStep10(state);
      state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now() + 60_000);
    });
    await evictDurableObject(runStub(runId));
    // The first request after the restart migrates.
    expect((await runView(runId)).dispatch?.state).toBe('due');
    const stored = await runInObject(runId, (state) => ({
      version: state.storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').one().version,
      mark: state.storage.sql.exec<{ sending_at: number | null }>('SELECT sending_at FROM dispatches').one().sending_at,
    }));
    expect(stored).toEqual({ version: 10, mark: null });
    await runInObject(runId, (state) => state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now()));
    await fireAlarmNow(runId);
    expect((await settledDispatch(runId)).state).toBe('sent');
    const log = await runsLog(repository);
    expect(log.listings).toHaveLength(0);
    expect(log.dispatches).toHaveLength(1);
  });
});
