/**
 * A run object that stored nothing stays without storage when asked about (relay/run/tables.ts): a
 * read that created the run's tables would leave them behind for good, since the alarm that deletes
 * a run (relay/run/alarm.ts) is armed by writes only.
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../relay/run/principal.ts';
import {
  alarmOf,
  decide,
  expectError,
  expireInStorage,
  fetchGate,
  getTarget,
  newRunId,
  postCallback,
  register,
  registerApproval,
  runStub,
  TOKEN_CALLER,
} from '../helpers.ts';
import { REPO_A, REPO_B } from '../oidc.ts';
import { resume, runView } from '../park.ts';
import { ageRun, RETENTION_MS, tableNames } from './stored.ts';

const UNKNOWN_GATE = 'AAAAAAAAAAAAAAAAAAAAAA';

function oidcCaller(repo: typeof REPO_A): Principal {
  return { kind: 'oidc', repository: repo.repository, repositoryId: repo.repositoryId, repositoryOwner: repo.repository.split('/')[0] ?? '' };
}

/** The run has no tables and no alarm: nothing of it is stored. */
async function expectNothingStored(runId: string): Promise<void> {
  expect(await tableNames(runId)).toEqual([]);
  expect(await alarmOf(runId)).toBeNull();
}

describe('a run that stored nothing', () => {
  it('answers every read and every gate route without creating its storage', async () => {
    const runId = newRunId('never-written');
    const stub = runStub(runId);
    await expectError(await fetchGate(runId, UNKNOWN_GATE), 404, 'not_found');
    expect(await stub.wait(TOKEN_CALLER, runId, UNKNOWN_GATE, 0)).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.called(TOKEN_CALLER, { runId, gateId: UNKNOWN_GATE })).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.gateInfo(TOKEN_CALLER, runId, UNKNOWN_GATE)).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.callback(UNKNOWN_GATE, { success: true })).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.approve(UNKNOWN_GATE, { approved: true, comment: '', approver: 'Ada' })).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.approvalPage(UNKNOWN_GATE)).toBeNull();
    expect(await getTarget(runId, 'staging')).toMatchObject({ status: 'unknown', attempt: 0 });
    expect(await resume(runId, { requested: false })).toMatchObject({ continuing: false, reason: 'no job of this deployment is parked' });
    expect((await resume(runId)).reason).toBe(`deployment ${runId} has no parked job to continue: it finished, or it was never parked`);
    expect(await runView(runId)).toEqual({ runId, parks: [], dispatch: null, targets: [] });
    await expectNothingStored(runId);
  });

  it('stays without storage after a late callback to a run its alarm deleted', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true });
    await ageRun(gate.runId, RETENTION_MS + 1000);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    await expectNothingStored(gate.runId);

    await expectError(await postCallback(gate.callbackUri, { success: true }), 404, 'not_found');
    await expectError(await fetchGate(gate.runId, gate.gateId), 404, 'not_found');
    await expectNothingStored(gate.runId);
  });
});

describe('RunObject.gateInfo', () => {
  it('tells what a gate is and how it stands, without its reports', async () => {
    const gate = await register({ name: 'deploy queue', phase: 'beforeDeployment', attempt: 2, stepKey: 'staging/2/queue' });
    await decide(gate.callbackUri, { progress: true, mdMessage: 'waiting for the deployment in progress' });
    const stub = runStub(gate.runId);
    const info = { kind: 'webhook', name: 'deploy queue', phase: 'beforeDeployment', attempt: 2, state: 'pending' };
    expect(await stub.gateInfo(TOKEN_CALLER, gate.runId, gate.gateId)).toEqual({ ok: true, gate: info });
    await decide(gate.callbackUri, { success: true });
    expect(await stub.gateInfo(TOKEN_CALLER, gate.runId, gate.gateId)).toEqual({ ok: true, gate: { ...info, state: 'succeeded' } });
    const approval = await registerApproval({ runId: gate.runId, stepKey: 'staging/2/approval', attempt: 2 });
    expect(await stub.gateInfo(TOKEN_CALLER, gate.runId, approval.gateId)).toMatchObject({ ok: true, gate: { kind: 'approval', state: 'pending' } });
    expect(await stub.gateInfo(TOKEN_CALLER, gate.runId, UNKNOWN_GATE)).toEqual({ ok: false, reason: 'not-found' });
  });

  it('ends a gate past its deadline first, as every read does', async () => {
    const gate = await register({ timeoutSeconds: 3600 });
    await expireInStorage(gate.runId, gate.gateId);
    expect(await runStub(gate.runId).gateInfo(TOKEN_CALLER, gate.runId, gate.gateId)).toMatchObject({ ok: true, gate: { state: 'timed-out' } });
  });

  it('refuses another repository, and claims nothing for the caller', async () => {
    const runId = `${REPO_A.repository}/${crypto.randomUUID()}`;
    const stub = runStub(runId);
    expect(await stub.gateInfo(oidcCaller(REPO_B), runId, UNKNOWN_GATE)).toEqual({ ok: false, reason: 'forbidden' });
    const free = newRunId('unclaimed');
    expect(await runStub(free).gateInfo(oidcCaller(REPO_B), free, UNKNOWN_GATE)).toEqual({ ok: false, reason: 'not-found' });
    await expectNothingStored(free);
    const gate = await register({ runId: free });
    expect(await runStub(free).gateInfo(oidcCaller(REPO_B), free, gate.gateId)).toEqual({ ok: false, reason: 'forbidden' });
  });
});
