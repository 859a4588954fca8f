/** Re-runs (SPEC §5): a newer attempt of a target supersedes the older one's pending gates; an older one is refused. */
import { describe, expect, it } from 'vitest';
import {
  alarmOf,
  decide,
  decideOnPage,
  expectError,
  gateRequest,
  getGate,
  openApproval,
  postCallback,
  postRegister,
  register,
  registerApproval,
  reportTarget,
  sleep,
  submitPage,
} from '../helpers.ts';

describe('registering a newer attempt', () => {
  it('supersedes the pending gates of earlier attempts of that target only; decided ones keep their decision', async () => {
    const pending = await register({ stepKey: 'staging/1/a', target: 'staging', timeoutSeconds: 600 });
    const runId = pending.runId;
    const decided = await register({ runId, stepKey: 'staging/1/b', target: 'staging' });
    const failed = await register({ runId, stepKey: 'staging/1/c', target: 'staging' });
    const otherTarget = await register({ runId, stepKey: 'prod/1/a', target: 'prod' });
    await decide(decided.callbackUri, { success: true, mdMessage: 'done in attempt 1' });
    await decide(failed.callbackUri, { success: false, mdMessage: 'red in attempt 1' });
    expect(await alarmOf(runId)).toBe(pending.deadline);

    const poll = getGate(runId, pending.gateId, 10);
    await sleep(100);
    const started = Date.now();
    const rerun = await register({ runId, stepKey: 'staging/2/a', target: 'staging', attempt: 2, timeoutSeconds: 900 });
    expect(rerun).toMatchObject({ status: 201, attempt: 2, state: 'pending' });

    const woken = await poll;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(woken).toMatchObject({ state: 'superseded', message: 'superseded by re-run attempt 2', attempt: 1 });
    expect(woken.decidedAt).not.toBeNull();
    expect(await getGate(runId, decided.gateId)).toMatchObject({ state: 'succeeded', message: 'done in attempt 1' });
    expect(await getGate(runId, failed.gateId)).toMatchObject({ state: 'failed', message: 'red in attempt 1' });
    expect((await getGate(runId, otherTarget.gateId)).state).toBe('pending');
    // The superseded gate no longer holds the alarm.
    expect(await alarmOf(runId)).toBe(Math.min(otherTarget.deadline, rerun.deadline));
  });

  it('answers a late callback to a superseded gate with 410', async () => {
    const old = await register({ stepKey: 'staging/1/a', target: 'staging' });
    await register({ runId: old.runId, stepKey: 'staging/2/a', target: 'staging', attempt: 2 });
    const error = await expectError(await postCallback(old.callbackUri, { success: true }), 410, 'gone');
    expect(error.gate).toMatchObject({ gateId: old.gateId, state: 'superseded' });
    await expectError(await postCallback(`${old.callbackUri}/callback`, { progress: true, mdMessage: 'late' }), 410, 'gone');
  });

  it('supersedes an earlier attempt’s pending approval: its page shows it and a POST gets 410', async () => {
    const old = await registerApproval({ stepKey: 'prod/1/approval' });
    const page = await openApproval(old.approvalUrl);
    await register({ runId: old.runId, stepKey: 'prod/2/approval', target: 'prod', kind: 'approval', attempt: 2 });
    const res = await submitPage(old.approvalUrl, page, { decision: 'approve' });
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('superseded');
    expect((await getGate(old.runId, old.gateId)).state).toBe('superseded');
  });

  it('leaves an approval decided in the earlier attempt as it was', async () => {
    const old = await registerApproval({ stepKey: 'prod/1/approval' });
    await decideOnPage(old.approvalUrl, 'approve', { approver: 'Ada' });
    await register({ runId: old.runId, stepKey: 'prod/2/approval', target: 'prod', kind: 'approval', attempt: 2 });
    expect(await getGate(old.runId, old.gateId)).toMatchObject({ state: 'succeeded', decidedBy: 'Ada' });
  });
});

describe('registering an older attempt', () => {
  it('answers 409 superseded after a newer attempt of the same target registered, and stores nothing', async () => {
    const newer = await register({ stepKey: 'staging/3/a', target: 'staging', attempt: 3 });
    for (const attempt of [1, 2]) {
      const error = await expectError(
        await postRegister(gateRequest({ runId: newer.runId, stepKey: `staging/${attempt}/late`, target: 'staging', attempt })),
        409,
        'superseded',
      );
      expect(error.message).toContain(`attempt ${attempt}`);
      expect(error.message).toContain('attempt 3 of target staging superseded it');
    }
    // Attempts are per target: another target's first attempt is fine.
    expect((await register({ runId: newer.runId, stepKey: 'prod/1/a', target: 'prod' })).status).toBe(201);
  });

  it('answers 409 superseded to a retry of an earlier attempt’s registration too', async () => {
    const old = await register({ stepKey: 'staging/1/a', target: 'staging' });
    await register({ runId: old.runId, stepKey: 'staging/2/a', target: 'staging', attempt: 2 });
    await expectError(await postRegister(old.request), 409, 'superseded');
  });

  it('answers 409 conflict when a newer attempt reuses an older attempt’s step key', async () => {
    const old = await register({ stepKey: 'staging/a', target: 'staging' });
    const error = await expectError(await postRegister({ ...old.request, attempt: 2 }), 409, 'conflict');
    expect(error.message).toContain('attempt 1');
    expect((await getGate(old.runId, old.gateId)).state).toBe('pending');
  });

  it('counts the attempt of the target’s record as well as its gates', async () => {
    const gate = await register({ stepKey: 'staging/1/a', target: 'staging' });
    await reportTarget({ runId: gate.runId, target: 'staging', attempt: 2, status: 'running' });
    await expectError(
      await postRegister(gateRequest({ runId: gate.runId, stepKey: 'staging/1/b', target: 'staging' })),
      409,
      'superseded',
    );
  });
});
