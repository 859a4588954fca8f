/**
 * GitHub's deployment protection rule in the run object (relay/run/protection.ts): a request is
 * answered exactly once, when the environment's beforeDeployment gates of the latest attempt are
 * all final, by the alarm, retried, even by a restarted object; the fake GitHub checks the token
 * and the body (test/support/relay-outbound/github-protection.ts).
 */
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ProtectionRequest } from '../../../relay/run/protection.ts';
import { TargetRecord } from '../../../shared/protocol.ts';
import { alarmOf, decide, expireInStorage, fetchTarget, postCancel, register, reportTarget, runInObject, runStub, sleep } from '../helpers.ts';
import { GITHUB, park, runView, storedDispatches } from '../park.ts';
import { undoStep8 } from './stored.ts';

type Run = { repository: string; githubRunId: string; runId: string };
type Review = { runId: string; environment: string; state: string; comment: string };
type Log = { reviews: Review[]; attempts: { runId: string; status: number }[] };

/** A repository and workflow run no other test uses; the hookgate run is `<repo>/<run id>`. */
function newRun(): Run {
  // wild-org/*: ALLOWED_REPOSITORIES lists it, so the relay token may park with a resume into it.
  const repository = `wild-org/rule-${crypto.randomUUID().slice(0, 8)}`;
  const githubRunId = String(1 + Math.floor(Math.random() * 1e12));
  return { repository, githubRunId, runId: `${repository}/${githubRunId}` };
}

function request(run: Run, overrides: Partial<ProtectionRequest> = {}): ProtectionRequest {
  return {
    delivery: crypto.randomUUID(),
    environment: 'prod',
    repository: run.repository,
    callbackUrl: `${GITHUB}/repos/${run.repository}/actions/runs/${run.githubRunId}/deployment_protection_rule`,
    ...overrides,
  };
}

/** A beforeDeployment webhook gate of `target` in the run. */
function gate(run: Run, name: string, target = 'prod', attempt = 1): ReturnType<typeof register> {
  return register({ runId: run.runId, stepKey: `${target}/beforeDeployment/${attempt}/${name}`, target, name, phase: 'beforeDeployment', attempt });
}

async function log(run: Run): Promise<Log> {
  return (await (await fetch(`${GITHUB}/_control/protection/log?repository=${encodeURIComponent(run.repository)}`)).json()) as Log;
}

async function script(run: Run, answer: 'ok' | 'refuse' | 'error'): Promise<void> {
  expect((await fetch(`${GITHUB}/_control/protection/script`, { method: 'POST', body: JSON.stringify({ repository: run.repository, answer }) })).status).toBe(200);
}

/** The run's requests as stored. */
function stored(run: Run): Promise<{ state: string; answer: string | null; tries: number; comment: string | null }[]> {
  return runInObject(run.runId, (state) =>
    state.storage.sql.exec<{ state: string; answer: string | null; tries: number; comment: string | null }>(
      'SELECT state, answer, tries, comment FROM protection_requests ORDER BY id',
    ).toArray(),
  );
}

/** Polls the fake GitHub until it accepted `count` reviews of the run; fails after `ms`. */
async function reviews(run: Run, count = 1, ms = 8000): Promise<Review[]> {
  const until = Date.now() + ms;
  for (;;) {
    const { reviews: got } = await log(run);
    if (got.length >= count) return got;
    if (Date.now() > until) throw new Error(`${run.repository} got ${got.length} reviews, not ${count}`);
    await sleep(25);
  }
}

// The alarm sends answers on its own time: a loaded machine may need more than the default 5 s.
describe('a protection request', { timeout: 30_000 }, () => {
  it('waits for the gates, then is approved once, with their messages', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket');
    const smoke = await gate(run, 'Smoke');
    const first = await runStub(run.runId).protectionRequest(request(run));
    expect(first).toEqual({ ok: true, stored: true, state: 'waiting', answer: null });
    await decide(ticket.callbackUri, { success: true, mdMessage: 'change CHG-1 approved' });
    await sleep(100);
    expect((await log(run)).attempts).toHaveLength(0);
    await decide(smoke.callbackUri, { success: true });
    // Stored with the decision that made it due.
    expect((await stored(run))[0]).toMatchObject({ state: 'due', answer: 'approved' });
    const [review] = await reviews(run);
    expect(review).toEqual({
      runId: run.githubRunId,
      environment: 'prod',
      state: 'approved',
      comment: 'hookgate: 2 beforeDeployment gates of prod succeeded.\n- webhook Ticket succeeded: change CHG-1 approved\n- webhook Smoke succeeded',
    });
    expect((await stored(run))[0]).toMatchObject({ state: 'sent', tries: 1 });
    await sleep(300);
    expect((await log(run)).reviews).toHaveLength(1);
  });

  it('is rejected when a gate failed, timed out or was canceled', async () => {
    for (const end of ['failed', 'timed-out', 'canceled'] as const) {
      const run = newRun();
      const passed = await gate(run, 'Ticket');
      const ending = await gate(run, 'Smoke');
      await decide(passed.callbackUri, { success: true });
      await runStub(run.runId).protectionRequest(request(run));
      if (end === 'failed') await decide(ending.callbackUri, { success: false, mdMessage: 'error rate 7%' });
      if (end === 'timed-out') {
        await expireInStorage(run.runId, ending.gateId);
        await runStub(run.runId).wait({ kind: 'token' }, run.runId, ending.gateId, 0);
      }
      if (end === 'canceled') expect((await postCancel({ runId: run.runId, reason: 'stopped by hand' })).status).toBe(200);
      const [review] = await reviews(run);
      expect(review?.state).toBe('rejected');
      expect(review?.comment).toContain(`- webhook Smoke ${end}`);
      expect(review?.comment).toContain('- webhook Ticket succeeded');
    }
  });

  it('rejected, ends the target its gate-mode job left running as failed, so its dependents stop waiting; approved, leaves it running', async () => {
    const rejected = newRun();
    const failing = await gate(rejected, 'Ticket');
    await reportTarget({ runId: rejected.runId, target: 'prod', attempt: 1, status: 'running', message: 'beforeDeployment gates' });
    await runStub(rejected.runId).protectionRequest(request(rejected));
    await decide(failing.callbackUri, { success: false, mdMessage: 'no change window' });
    expect((await reviews(rejected))[0]?.state).toBe('rejected');
    const record = TargetRecord.parse(await (await fetchTarget(rejected.runId, 'prod')).json());
    expect(record).toMatchObject({ status: 'failed', attempt: 1 });
    expect(record.message).toContain("protection rule was rejected");

    const approved = newRun();
    const passing = await gate(approved, 'Ticket');
    await reportTarget({ runId: approved.runId, target: 'prod', attempt: 1, status: 'running', message: 'beforeDeployment gates' });
    await runStub(approved.runId).protectionRequest(request(approved));
    await decide(passing.callbackUri, { success: true });
    expect((await reviews(approved))[0]?.state).toBe('approved');
    expect(TargetRecord.parse(await (await fetchTarget(approved.runId, 'prod')).json()).status).toBe('running');
  });

  it('for an environment the run has no beforeDeployment gate for is rejected at once, saying so', async () => {
    const run = newRun();
    await gate(run, 'Ticket', 'staging');
    await register({ runId: run.runId, stepKey: 'prod/afterDeployment/0/Check', target: 'prod', name: 'Check', phase: 'afterDeployment' });
    expect(await runStub(run.runId).protectionRequest(request(run))).toEqual({ ok: true, stored: true, state: 'due', answer: 'rejected' });
    const [review] = await reviews(run);
    expect(review).toMatchObject({ environment: 'prod', state: 'rejected' });
    expect(review?.comment).toMatch(/registered no beforeDeployment gate for target prod/);
  });

  it('is answered for the gates of the latest attempt only', async () => {
    const run = newRun();
    const old = await gate(run, 'Ticket', 'prod', 1);
    await decide(old.callbackUri, { success: false });
    const rerun = await gate(run, 'Ticket', 'prod', 2);
    await runStub(run.runId).protectionRequest(request(run));
    await sleep(100);
    expect((await log(run)).attempts).toHaveLength(0);
    await decide(rerun.callbackUri, { success: true });
    expect((await reviews(run))[0]?.state).toBe('approved');
  });

  it('matches the environment to a target in another case, as GitHub’s names ignore case', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket', 'Prod');
    await decide(ticket.callbackUri, { success: true });
    expect(await runStub(run.runId).protectionRequest(request(run))).toMatchObject({ state: 'due', answer: 'approved' });
    expect((await reviews(run))[0]?.environment).toBe('prod');
  });

  it('delivered twice (a redelivery, or a second while one is open) is answered once', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket');
    const first = request(run);
    expect(await runStub(run.runId).protectionRequest(first)).toMatchObject({ stored: true });
    expect(await runStub(run.runId).protectionRequest(first)).toMatchObject({ stored: false, state: 'waiting' });
    expect(await runStub(run.runId).protectionRequest(request(run))).toMatchObject({ stored: false });
    await decide(ticket.callbackUri, { success: true });
    await reviews(run);
    expect(await runStub(run.runId).protectionRequest(first)).toMatchObject({ stored: false, state: 'sent', answer: 'approved' });
    await sleep(300);
    expect((await log(run)).attempts).toHaveLength(1);
    expect(await stored(run)).toHaveLength(1);
  });

  it('refused by GitHub is retried until accepted, by a restarted object too', async () => {
    const run = newRun();
    await script(run, 'error');
    await runStub(run.runId).protectionRequest(request(run, { environment: 'nowhere' }));
    const until = Date.now() + 8000;
    while ((await stored(run))[0]?.tries !== 1 && Date.now() < until) await sleep(25);
    expect((await stored(run))[0]).toMatchObject({ state: 'due', tries: 1 });
    await evictDurableObject(runStub(run.runId));
    await script(run, 'ok');
    const [review] = await reviews(run);
    expect(review?.state).toBe('rejected');
    expect((await stored(run))[0]).toMatchObject({ state: 'sent', tries: 2 });
    expect((await log(run)).attempts.map((attempt) => attempt.status)).toEqual([500, 204]);
  });

  it('reaches a run stored before schema step 7: the upgrade adds its table', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket');
    await runInObject(run.runId, (state) => {
      undoStep8(state);
      state.storage.sql.exec('DROP TABLE protection_requests');
      state.storage.sql.exec('UPDATE schema_version SET version = 6');
    });
    await evictDurableObject(runStub(run.runId));
    expect(await runStub(run.runId).protectionRequest(request(run))).toMatchObject({ stored: true, state: 'waiting' });
    await decide(ticket.callbackUri, { success: true });
    expect((await reviews(run))[0]?.state).toBe('approved');
  });

  it('is kept to 100 per run', async () => {
    const run = newRun();
    for (let i = 0; i < 100; i += 1) {
      const result = await runStub(run.runId).protectionRequest(request(run, { environment: `env-${i}` }));
      expect(result.ok).toBe(true);
    }
    expect(await runStub(run.runId).protectionRequest(request(run, { environment: 'one-more' }))).toEqual({
      ok: false,
      reason: 'too-many-requests',
      count: 100,
    });
  });
});

describe('a parked <target>#beforeDeployment job', { timeout: 30_000 }, () => {
  it('whose target GitHub asked about is resumed by the rule, never by a dispatch; its park is then closed', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket');
    await park(run.runId, run.repository, { job: 'prod#beforeDeployment', gateIds: [ticket.gateId] });
    await runStub(run.runId).protectionRequest(request(run));
    await decide(ticket.callbackUri, { success: true });
    expect((await reviews(run))[0]?.state).toBe('approved');
    await sleep(200);
    expect(await storedDispatches(run.runId)).toEqual([]);
    const view = await runView(run.runId);
    expect(view.dispatch).toBeNull();
    expect(view.parks.map((row) => [row.job, row.state])).toEqual([['prod#beforeDeployment', 'closed']]);
    // Nothing holds the run any more: its alarm is set for its deletion, after the retention time.
    const alarm = await alarmOf(run.runId);
    expect(alarm).not.toBeNull();
    expect(alarm! - Date.now()).toBeGreaterThan(24 * 3600_000);
  });

  it('is never dispatched while the rule still waits: its own gates final, another gate of its target pending', async () => {
    const run = newRun();
    const own = await gate(run, 'Ticket');
    const other = await gate(run, 'Smoke');
    await park(run.runId, run.repository, { job: 'prod#beforeDeployment', gateIds: [own.gateId] });
    await runStub(run.runId).protectionRequest(request(run));
    await decide(own.callbackUri, { success: true });
    await sleep(200);
    expect(await storedDispatches(run.runId)).toEqual([]);
    expect((await runView(run.runId)).parks.map((row) => row.state)).toEqual(['parked']);
    await decide(other.callbackUri, { success: false });
    expect((await reviews(run))[0]?.state).toBe('rejected');
    expect((await runView(run.runId)).parks.map((row) => row.state)).toEqual(['closed']);
    expect(await storedDispatches(run.runId)).toEqual([]);
  });

  it('of another target, or without a request, is still resumed by a dispatch', async () => {
    const run = newRun();
    const ticket = await gate(run, 'Ticket', 'staging');
    await park(run.runId, run.repository, { job: 'staging#beforeDeployment', gateIds: [ticket.gateId] });
    await runStub(run.runId).protectionRequest(request(run));
    await decide(ticket.callbackUri, { success: true });
    const until = Date.now() + 8000;
    while ((await storedDispatches(run.runId)).length === 0 && Date.now() < until) await sleep(25);
    expect(await storedDispatches(run.runId)).toHaveLength(1);
  });
});
