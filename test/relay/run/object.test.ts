/** The run's Durable Object (relay/run/object.ts): storage, RPC results, long-poll wake-ups and the alarm. */
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GateView, RegisterGateRequest } from '../../../shared/protocol.ts';
import {
  alarmOf,
  BASE,
  decide,
  expectError,
  expireInStorage,
  gateRequest,
  getGate,
  newRunId,
  postCallback,
  postCancel,
  register,
  registerApproval,
  runInObject,
  runStub,
  sleep,
  TOKEN_CALLER,
} from '../helpers.ts';

type StoredGate = { state: string; message: string | null; deadline: number; decided_at: number | null };

function storedGate(runId: string, gateId: string): Promise<StoredGate | undefined> {
  return runInObject(runId, (state) =>
    state.storage.sql
      .exec<StoredGate>('SELECT state, message, deadline, decided_at FROM gates WHERE id = ?', gateId)
      .toArray()[0],
  );
}

describe('RPC methods', () => {
  it('stores a registered gate before answering', async () => {
    const request = RegisterGateRequest.parse(gateRequest());
    const stub = runStub(request.runId);
    const result = await stub.register(TOKEN_CALLER, request, `${BASE}/`);
    if (result.status !== 200 && result.status !== 201) throw new Error(`register answered ${result.status}`);
    const gate = result.gate;
    expect(result.status).toBe(201);
    expect(gate).toMatchObject({ created: true, kind: 'webhook', attempt: 1, decidedBy: null, approvalUrl: null });
    expect(gate.callbackUri.startsWith(`${BASE}/cb/`)).toBe(true);
    expect(await storedGate(request.runId, gate.gateId)).toMatchObject({ state: 'pending', deadline: gate.deadline });
    const again = await stub.register(TOKEN_CALLER, request, 'https://elsewhere.test');
    expect(again).toMatchObject({ status: 200, gate: { gateId: gate.gateId, callbackUri: gate.callbackUri, created: false } });
  });

  it('answers callback with 404, 200, 409 and 410 as the gate moves', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    expect(await stub.callback('AAAAAAAAAAAAAAAAAAAAAA', { success: true })).toEqual({ status: 404 });

    const decided = await stub.callback(gate.gateId, { success: false, mdMessage: 'red' });
    expect(decided).toMatchObject({ status: 200, gate: { state: 'failed', message: 'red' } });
    expect(await storedGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', message: 'red' });
    expect((await storedGate(gate.runId, gate.gateId))?.decided_at).not.toBeNull();

    expect(await stub.callback(gate.gateId, { success: false })).toMatchObject({ status: 200, gate: { state: 'failed' } });
    expect(await stub.callback(gate.gateId, { success: true })).toMatchObject({ status: 409, gate: { state: 'failed' } });

    const other = await register({ runId: gate.runId, stepKey: 'other' });
    await stub.cancelRun(TOKEN_CALLER, 'stop');
    expect(await stub.callback(other.gateId, { success: true })).toMatchObject({ status: 410, gate: { state: 'canceled' } });
  });

  it('does not let a progress report touch a decided gate', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    await stub.callback(gate.gateId, { success: true, mdMessage: 'done' });
    const late = await stub.callback(gate.gateId, { progress: true, mdMessage: 'still running' });
    expect(late).toMatchObject({ status: 409, gate: { state: 'succeeded', message: 'done', progress: [] } });
  });

  it('keeps the latest 50 progress reports of a gate, in order', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    for (let index = 1; index <= 55; index += 1) {
      await stub.callback(gate.gateId, { progress: true, mdMessage: `step ${index}` });
    }
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.progress).toHaveLength(50);
    expect(view.progress[0]?.message).toBe('step 6');
    expect(view.progress[49]?.message).toBe('step 55');
  });

  it('answers wait with 404 for an unknown gate', async () => {
    const gate = await register();
    expect(await runStub(gate.runId).wait(TOKEN_CALLER, 'AAAAAAAAAAAAAAAAAAAAAA', 1)).toEqual({ status: 404 });
  });

  it('wakes a waiting poll on a progress report with the report in the view', async () => {
    const gate = await register();
    const poll = runStub(gate.runId).wait(TOKEN_CALLER, gate.gateId, 10);
    await sleep(100);
    const started = Date.now();
    await decide(gate.callbackUri, { progress: true, mdMessage: 'half way' });
    const result = await poll;
    if (result.status !== 200) throw new Error(`wait answered ${result.status}`);
    const view = GateView.parse(result.gate);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(view.state).toBe('pending');
    expect(view.progress.map((report) => report.message)).toEqual(['half way']);
  });
});

describe('RPC methods of approvals, attempts and targets', () => {
  it('answers approve with 404 for a webhook or unknown gate, then 200, 409 and 410', async () => {
    const webhook = await register();
    const stub = runStub(webhook.runId);
    const decision = { approved: true, comment: '', approver: '' };
    expect(await stub.approve(webhook.gateId, decision)).toEqual({ status: 404 });
    expect(await stub.approve('AAAAAAAAAAAAAAAAAAAAAA', decision)).toEqual({ status: 404 });
    expect((await getGate(webhook.runId, webhook.gateId)).state).toBe('pending');

    const gate = await registerApproval({ runId: webhook.runId });
    const approved = await stub.approve(gate.gateId, { approved: true, comment: '  lgtm  ', approver: ' Ada ' });
    expect(approved).toMatchObject({ status: 200, gate: { state: 'succeeded', message: 'lgtm', decidedBy: 'Ada' } });
    expect(await stub.approve(gate.gateId, { approved: false, comment: 'no', approver: 'Eve' })).toMatchObject({
      status: 409,
      gate: { state: 'succeeded', decidedBy: 'Ada' },
    });

    const late = await registerApproval({ runId: webhook.runId, stepKey: 'prod/late' });
    await expireInStorage(late.runId, late.gateId);
    expect(await stub.approve(late.gateId, decision)).toMatchObject({ status: 410, gate: { state: 'timed-out' } });
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
    expect((await stub.register(TOKEN_CALLER, request, BASE)).status).toBe(201);
    const older = await stub.register(TOKEN_CALLER, { ...request, stepKey: 'older', attempt: 1 }, BASE);
    expect(older).toMatchObject({ status: 409, error: 'superseded' });
    const reused = await stub.register(TOKEN_CALLER, { ...request, attempt: 3 }, BASE);
    expect(reused).toMatchObject({ status: 409, error: 'conflict' });
  });

  it('answers reportTarget and waitTarget with records and refusals', async () => {
    const runId = newRunId();
    const stub = runStub(runId);
    const report = { runId, target: 'staging', attempt: 1, message: '' };
    expect(await stub.waitTarget(TOKEN_CALLER, runId, 'staging', 0)).toMatchObject({
      status: 200,
      record: { status: 'unknown', attempt: 0 },
    });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'succeeded' })).toMatchObject({
      status: 200,
      record: { status: 'succeeded' },
    });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'failed' })).toMatchObject({
      status: 409,
      error: 'conflict',
      record: { status: 'succeeded' },
    });
    const rerun = await stub.reportTarget(TOKEN_CALLER, { ...report, attempt: 2, status: 'running' });
    expect(rerun).toMatchObject({ status: 200, record: { attempt: 2 } });
    expect(await stub.reportTarget(TOKEN_CALLER, { ...report, status: 'running' })).toMatchObject({ status: 409, error: 'superseded' });
    const poll = stub.waitTarget(TOKEN_CALLER, runId, 'staging', 10);
    await sleep(100);
    await stub.cancelRun(TOKEN_CALLER, 'stop', undefined, 'staging');
    expect(await poll).toMatchObject({ status: 200, record: { status: 'canceled', message: 'stop', attempt: 2 } });
  });
});

describe('the alarm', () => {
  it('is set to the nearest pending deadline and moves as gates are decided', async () => {
    const mid = await register({ stepKey: 'mid', timeoutSeconds: 600 });
    const runId = mid.runId;
    const near = await register({ runId, stepKey: 'near', timeoutSeconds: 300 });
    const far = await register({ runId, stepKey: 'far', timeoutSeconds: 900 });
    expect(await alarmOf(runId)).toBe(near.deadline);

    await decide(near.callbackUri, { success: true });
    expect(await alarmOf(runId)).toBe(mid.deadline);

    const res = await postCancel({ runId, gateIds: [mid.gateId] });
    expect(res.status).toBe(200);
    expect(await alarmOf(runId)).toBe(far.deadline);

    // Deciding a gate that is not the nearest leaves the alarm where it is.
    const nearer = await register({ runId, stepKey: 'nearer', timeoutSeconds: 60 });
    expect(await alarmOf(runId)).toBe(nearer.deadline);
    await decide(far.callbackUri, { success: false });
    expect(await alarmOf(runId)).toBe(nearer.deadline);

    await decide(nearer.callbackUri, { success: true });
    expect(await alarmOf(runId)).toBeNull();
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(false);
  });

  it('is removed when the run is canceled', async () => {
    const a = await register({ timeoutSeconds: 60 });
    await register({ runId: a.runId, stepKey: 'b', timeoutSeconds: 120 });
    expect(await alarmOf(a.runId)).toBe(a.deadline);
    await postCancel({ runId: a.runId });
    expect(await alarmOf(a.runId)).toBeNull();
  });

  it('is not brought forward by an idempotent re-registration', async () => {
    const gate = await register({ timeoutSeconds: 600 });
    await register({ ...gate.request, timeoutSeconds: 5 });
    expect(await alarmOf(gate.runId)).toBe(gate.deadline);
  });

  it('times out an expired gate with nobody listening, stores it, and re-arms for the next', async () => {
    const expiring = await register({ stepKey: 'expiring', timeoutSeconds: 600 });
    const runId = expiring.runId;
    const later = await register({ runId, stepKey: 'later', timeoutSeconds: 1200 });
    await expireInStorage(runId, expiring.gateId);

    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    const stored = await storedGate(runId, expiring.gateId);
    expect(stored?.state).toBe('timed-out');
    expect(stored?.message).toMatch(/deadline/);
    expect(stored?.decided_at).not.toBeNull();
    expect((await storedGate(runId, later.gateId))?.state).toBe('pending');
    expect(await alarmOf(runId)).toBe(later.deadline);

    await expectError(await postCallback(expiring.callbackUri, { success: true }), 410, 'gone');
    await expectError(await postCallback(`${expiring.callbackUri}/callback`, { success: false }), 410, 'gone');
    expect((await getGate(runId, expiring.gateId)).state).toBe('timed-out');
    expect((await postCallback(later.callbackUri, { success: true })).status).toBe(200);
  });

  it('leaves gates decided or canceled before their deadline as they are', async () => {
    const decided = await register({ stepKey: 'decided', timeoutSeconds: 600 });
    const runId = decided.runId;
    const canceled = await register({ runId, stepKey: 'canceled', timeoutSeconds: 600 });
    const pending = await register({ runId, stepKey: 'pending', timeoutSeconds: 600 });
    await decide(decided.callbackUri, { success: true, mdMessage: 'in time' });
    await postCancel({ runId, gateIds: [canceled.gateId], reason: 'sibling failed' });
    for (const gate of [decided, canceled, pending]) await expireInStorage(runId, gate.gateId);

    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    expect(await getGate(runId, decided.gateId)).toMatchObject({ state: 'succeeded', message: 'in time' });
    expect(await getGate(runId, canceled.gateId)).toMatchObject({ state: 'canceled', message: 'sibling failed' });
    expect((await getGate(runId, pending.gateId)).state).toBe('timed-out');
    expect(await alarmOf(runId)).toBeNull();
  });

  it('run early changes nothing and re-arms itself', async () => {
    const gate = await register({ timeoutSeconds: 600 });
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect(await alarmOf(gate.runId)).toBe(gate.deadline);
  });

  it('answers a waiting long-poll with timed-out when it fires', async () => {
    const gate = await register({ timeoutSeconds: 600 });
    const started = Date.now();
    const poll = getGate(gate.runId, gate.gateId, 10);
    await sleep(150);
    await expireInStorage(gate.runId, gate.gateId);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    const view = await poll;
    expect(view.state).toBe('timed-out');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe.concurrent('the alarm at a real deadline (workerd fires it on its own)', () => {
  it('fires on its own at the deadline and stores timed-out with nobody listening', async () => {
    const gate = await register({ timeoutSeconds: 1 });
    expect(await alarmOf(gate.runId)).toBe(gate.deadline);
    await sleep(Math.max(0, gate.deadline - Date.now()) + 150);
    // workerd may already have run it; either way the handler must have stored the outcome.
    await runDurableObjectAlarm(runStub(gate.runId));
    expect((await storedGate(gate.runId, gate.gateId))?.state).toBe('timed-out');
    expect(await alarmOf(gate.runId)).toBeNull();
    await expectError(await postCallback(gate.callbackUri, { success: true }), 410, 'gone');
  });

  it('answers a waiting long-poll with timed-out at a real deadline inside the window', async () => {
    const gate = await register({ timeoutSeconds: 1 });
    const started = Date.now();
    const view = await getGate(gate.runId, gate.gateId, 10);
    expect(view.state).toBe('timed-out');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('eviction', () => {
  it('keeps decided gates, idempotent registration and the pending alarm', async () => {
    const decided = await register({ stepKey: 'decided' });
    const runId = decided.runId;
    const pending = await register({ runId, stepKey: 'pending', timeoutSeconds: 900 });
    await decide(decided.callbackUri, { success: true, mdMessage: 'stored' });
    await decide(pending.callbackUri, { progress: true, mdMessage: 'working' });

    await evictDurableObject(runStub(runId));

    expect(await getGate(runId, decided.gateId)).toMatchObject({ state: 'succeeded', message: 'stored' });
    expect((await getGate(runId, pending.gateId)).progress.map((report) => report.message)).toEqual(['working']);
    expect(await register(decided.request)).toMatchObject({
      gateId: decided.gateId,
      callbackUri: decided.callbackUri,
      created: false,
      state: 'succeeded',
    });
    expect(await alarmOf(runId)).toBe(pending.deadline);

    await expireInStorage(runId, pending.gateId);
    await evictDurableObject(runStub(runId));
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    expect((await getGate(runId, pending.gateId)).state).toBe('timed-out');
  });
});
