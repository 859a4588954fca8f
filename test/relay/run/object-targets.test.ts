/** The run's Durable Object (relay/run/object.ts): RPC results of approvals, attempts and target records. */
import { describe, expect, it } from 'vitest';
import { RegisterGateRequest } from '../../../shared/protocol.ts';
import {
  alarmOf,
  expireInStorage,
  gateRequest,
  getGate,
  newRunId,
  register,
  registerApproval,
  runStub,
  sleep,
  TOKEN_CALLER,
} from '../helpers.ts';
import { newGate } from './stored.ts';

describe('RPC methods of approvals, attempts and targets', () => {
  it('answers approve with not-found for a webhook or unknown gate, then ok, conflict and final', async () => {
    const webhook = await register();
    const stub = runStub(webhook.runId);
    const decision = { approved: true, comment: '', approver: '' };
    expect(await stub.approve(webhook.gateId, decision)).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.approve('AAAAAAAAAAAAAAAAAAAAAA', decision)).toEqual({ ok: false, reason: 'not-found' });
    expect((await getGate(webhook.runId, webhook.gateId)).state).toBe('pending');

    const gate = await registerApproval({ runId: webhook.runId });
    const approved = await stub.approve(gate.gateId, { approved: true, comment: '  lgtm  ', approver: ' Ada ' });
    expect(approved).toMatchObject({ ok: true, gate: { state: 'succeeded', message: 'lgtm', decidedBy: 'Ada' } });
    expect(await stub.approve(gate.gateId, { approved: false, comment: 'no', approver: 'Eve' })).toMatchObject({
      ok: false,
      reason: 'conflict',
      gate: { state: 'succeeded', decidedBy: 'Ada' },
    });

    const late = await registerApproval({ runId: webhook.runId, stepKey: 'prod/late' });
    await expireInStorage(late.runId, late.gateId);
    expect(await stub.approve(late.gateId, decision)).toMatchObject({ ok: false, reason: 'final', gate: { state: 'timed-out' } });
  });

  it('moves the alarm when an approval is decided', async () => {
    const near = await registerApproval({ timeoutSeconds: 60 });
    const far = await register({ runId: near.runId, stepKey: 'far', timeoutSeconds: 600 });
    expect(await alarmOf(near.runId)).toBe(near.deadline);
    await runStub(near.runId).approve(near.gateId, { approved: false, comment: '', approver: '' });
    expect(await alarmOf(near.runId)).toBe(far.deadline);
  });

  it('answers approvalPage with null for a webhook gate and times out due gates before showing them', async () => {
    const webhook = await register({ target: 'prod', stepKey: 'prod/ticket' });
    const stub = runStub(webhook.runId);
    expect(await stub.approvalPage(webhook.gateId)).toBeNull();
    const gate = await registerApproval({ runId: webhook.runId });
    await expireInStorage(webhook.runId, webhook.gateId);
    const page = await stub.approvalPage(gate.gateId);
    expect(page?.gates.map((sibling) => [sibling.name, sibling.state])).toEqual([
      ['Update-Database-Schema', 'timed-out'],
      ['Approval', 'pending'],
    ]);
    expect(page?.run?.application).toBe('potato-facts');
  });

  it('returns refusals from register instead of throwing', async () => {
    const request = RegisterGateRequest.parse(gateRequest({ attempt: 2 }));
    const stub = runStub(request.runId);
    expect(await stub.register(TOKEN_CALLER, request, newGate(request))).toMatchObject({ ok: true, gate: { created: true } });
    const older = { ...request, stepKey: 'older', attempt: 1 };
    expect(await stub.register(TOKEN_CALLER, older, newGate(older))).toMatchObject({ ok: false, reason: 'superseded' });
    const reused = { ...request, attempt: 3 };
    expect(await stub.register(TOKEN_CALLER, reused, newGate(reused))).toMatchObject({ ok: false, reason: 'conflict' });
  });

  it('answers reportTarget and waitTarget with records and refusals', async () => {
    const runId = newRunId();
    const stub = runStub(runId);
    const report = { runId, target: 'staging', attempt: 1, message: '' };
    expect(await stub.waitTarget(TOKEN_CALLER, runId, 'staging', 0)).toMatchObject({
      ok: true,
      record: { status: 'unknown', attempt: 0 },
    });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'succeeded' })).toMatchObject({
      ok: true,
      record: { status: 'succeeded' },
    });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'failed' })).toMatchObject({
      ok: false,
      reason: 'conflict',
      record: { status: 'succeeded' },
    });
    const rerun = await stub.reportTarget(TOKEN_CALLER, { ...report, attempt: 2, status: 'running' });
    expect(rerun).toMatchObject({ ok: true, record: { attempt: 2 } });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'running' })).toMatchObject({
      ok: false,
      reason: 'superseded',
    });
    const poll = stub.waitTarget(TOKEN_CALLER, runId, 'staging', 10);
    await sleep(100);
    await stub.cancelRun(TOKEN_CALLER, { runId, reason: 'stop', target: 'staging' });
    expect(await poll).toMatchObject({ ok: true, record: { status: 'canceled', message: 'stop', attempt: 2 } });
  });
});
