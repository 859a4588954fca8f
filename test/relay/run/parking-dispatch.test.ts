/**
 * When a parked deployment resumes (relay/run/parking.ts, relay/run/resume-sender.ts): once
 * every gate and upstream target a parked job waits for is final, exactly one dispatch per
 * resume target, stored with the change and sent by the alarm, even by a restarted object.
 */
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { decide, expireInStorage, newRunId, postCancel, register, reportTarget, runStub, sleep } from '../helpers.ts';
import { githubLog, newRepository, park, runView, scriptGitHub, settledDispatch, storedDispatches } from '../park.ts';

// The alarm sends dispatches on its own time: a loaded machine may need more than the default 5 s.
describe('a parked job', { timeout: 30_000 }, () => {
  it('is resumed by one dispatch once its gate is decided', async () => {
    const repository = newRepository();
    const gate = await register({ runId: newRunId('park') });
    const runId = gate.runId;
    expect(await park(runId, repository, { gateIds: [gate.gateId] })).toEqual({ job: '*', resume: 'automatic', reason: null });
    await sleep(100);
    // Nothing is due while the gate is pending.
    expect((await runView(runId)).dispatch).toBeNull();
    expect((await githubLog(repository)).dispatches).toHaveLength(0);

    await decide(gate.callbackUri, { success: true });
    // Stored with the decision: the callback's answer comes after the row.
    expect((await storedDispatches(runId)).length).toBe(1);
    const dispatch = await settledDispatch(runId);
    expect(dispatch).toMatchObject({ state: 'sent', error: null, runId: expect.stringMatching(/^\d+$/) });
    expect(dispatch.runUrl).toMatch(new RegExp(`^https://github.test/${repository}/actions/runs/\\d+$`));
    const log = await githubLog(repository);
    expect(log.dispatches).toEqual([{ ref: 'main', inputs: { 'hookgate-resume': runId }, returnRunDetails: true, workflow: 'deploy.yml' }]);
    await sleep(200);
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('is resumed when its gate times out by the alarm', async () => {
    const repository = newRepository();
    const gate = await register({ runId: newRunId('park-timeout') });
    await park(gate.runId, repository, { gateIds: [gate.gateId] });
    await expireInStorage(gate.runId, gate.gateId);
    await runStub(gate.runId).wait({ kind: 'token' }, gate.runId, gate.gateId, 0);
    expect((await settledDispatch(gate.runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('is resumed when its gates are canceled, and every parked job of the same workflow and ref shares one dispatch', async () => {
    const repository = newRepository();
    const runId = newRunId('park-cancel');
    const staging = await register({ runId, stepKey: 'staging/g', target: 'staging' });
    const prod = await register({ runId, stepKey: 'prod/g', target: 'prod' });
    await park(runId, repository, { job: 'staging', gateIds: [staging.gateId] });
    await park(runId, repository, { job: 'prod', gateIds: [prod.gateId] });
    expect((await postCancel({ runId, reason: 'canceled by hand' })).status).toBe(200);
    expect((await settledDispatch(runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
    expect((await storedDispatches(runId)).length).toBe(1);
    const view = await runView(runId);
    expect(view.parks.map((row) => [row.job, row.state])).toEqual([
      ['staging', 'parked'],
      ['prod', 'parked'],
    ]);
  });

  it('waiting for an upstream target is resumed once its record is final in its attempt', async () => {
    const repository = newRepository();
    const runId = newRunId('park-upstream');
    await park(runId, repository, { job: 'prod', targets: ['staging'] });
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running', message: '' });
    await sleep(100);
    expect((await runView(runId)).dispatch).toBeNull();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded', message: 'done' });
    expect((await settledDispatch(runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('resumes a job waiting on an upstream job with the dispatch that resumes the upstream job, never with a second one', async () => {
    const repository = newRepository();
    const runId = newRunId('park-chain');
    const gate = await register({ runId, stepKey: 'staging/g', target: 'staging' });
    await park(runId, repository, { job: 'staging', gateIds: [gate.gateId] });
    await park(runId, repository, { job: 'prod', targets: ['staging'] });
    await decide(gate.callbackUri, { success: true });
    expect((await settledDispatch(runId)).state).toBe('sent');
    // The resumed run's staging job finishes before its prod job (needs: staging) asks to continue.
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded', message: 'done' });
    await sleep(300);
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
    expect((await storedDispatches(runId)).length).toBe(1);
  });

  it('waits while a job of the run that did not park is still running: the dispatched run would start it a second time', async () => {
    const repository = newRepository();
    const runId = newRunId('park-live');
    const gate = await register({ runId, stepKey: 'prod-us/g', target: 'prod-us' });
    await reportTarget({ runId, target: 'prod-us', attempt: 1, status: 'running', message: '' });
    await reportTarget({ runId, target: 'prod-eu', attempt: 1, status: 'running', message: 'canary 50%' });
    await park(runId, repository, { job: 'prod-us', gateIds: [gate.gateId] });
    await decide(gate.callbackUri, { success: true });
    await sleep(300);
    expect(await storedDispatches(runId)).toHaveLength(0);
    // prod-eu's job ends: nothing else runs, the parked job is resumed.
    await reportTarget({ runId, target: 'prod-eu', attempt: 1, status: 'succeeded', message: 'done' });
    expect((await settledDispatch(runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('parked when everything it waits for is already final is resumed at once', async () => {
    const repository = newRepository();
    const gate = await register({ runId: newRunId('park-final') });
    await decide(gate.callbackUri, { success: false });
    await park(gate.runId, repository, { gateIds: [gate.gateId] });
    expect((await settledDispatch(gate.runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });

  it('gets separate dispatches for separate refs', async () => {
    const repository = newRepository();
    const runId = newRunId('park-refs');
    await park(runId, repository, { job: 'a' });
    await park(runId, repository, { job: 'b', resume: { repository, workflow: '.github/workflows/deploy.yml', ref: 'refs/tags/v1' } });
    const deadline = Date.now() + 8000;
    while ((await githubLog(repository)).dispatches.length < 2 && Date.now() < deadline) await sleep(25);
    expect((await githubLog(repository)).dispatches.map((sent) => sent.ref)).toEqual(['main', 'v1']);
  });

  it('is still resumed by a restarted object: the due dispatch is in storage and the alarm sends it', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'error' });
    const runId = newRunId('park-restart');
    await park(runId, repository);
    // The first try fails (GitHub 500); a retry is due in 2 s.
    const deadline = Date.now() + 8000;
    while ((await storedDispatches(runId))[0]?.tries !== 1 && Date.now() < deadline) await sleep(25);
    expect((await storedDispatches(runId))[0]).toMatchObject({ state: 'due', tries: 1 });
    await evictDurableObject(runStub(runId));
    await scriptGitHub(repository, { dispatch: 'details' });
    expect((await settledDispatch(runId)).state).toBe('sent');
    expect((await githubLog(repository)).dispatches).toHaveLength(1);
  });
});
