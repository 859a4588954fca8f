/** Target records (SPEC §5, one job per environment): /v1/runs/targets and cancel scoped to a target. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { CancelRunResponse, TargetRecord } from '../../../shared/protocol.ts';
import {
  authHeaders,
  BASE,
  expectError,
  fetchTarget,
  getGate,
  getTarget,
  newRunId,
  postCallback,
  postCancel,
  postTarget,
  register,
  reportTarget,
  sleep,
} from '../helpers.ts';

describe('GET /v1/runs/targets', () => {
  it('answers unknown at attempt 0 for a target nobody reported, at once', async () => {
    const started = Date.now();
    const record = await getTarget(newRunId(), 'staging', 0);
    expect(record).toMatchObject({ target: 'staging', attempt: 0, status: 'unknown', message: '', updatedAt: null });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers a running target at once without wait, and after the window with wait=1', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    expect((await getTarget(runId, 'staging')).status).toBe('running');
    const started = Date.now();
    const record = await getTarget(runId, 'staging', 1);
    const elapsed = Date.now() - started;
    expect(record.status).toBe('running');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
  });

  it('answers a final status at once, even with a long wait', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'rolled-back', message: 'System-Health failed' });
    const started = Date.now();
    expect(await getTarget(runId, 'staging', 30)).toMatchObject({ status: 'rolled-back', message: 'System-Health failed' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wakes a waiting poll the moment a final status is stored, not on a non-final update', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    const polls = [1, 2].map(() => getTarget(runId, 'staging', 10).then((record) => ({ record, at: Date.now() })));
    let settled = false;
    void Promise.all(polls).then(() => (settled = true));
    await sleep(100);
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running', message: 'deploying' });
    await sleep(300);
    expect(settled).toBe(false);
    const decidedAt = Date.now();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded', message: 'all green' });
    for (const { record, at } of await Promise.all(polls)) {
      expect(record).toMatchObject({ status: 'succeeded', message: 'all green', attempt: 1 });
      expect(at - decidedAt).toBeLessThan(1000);
    }
  });

  it('keeps targets apart: a poll on one is not woken by another', async () => {
    const runId = newRunId();
    const poll = getTarget(runId, 'prod', 1);
    await sleep(100);
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'failed' });
    expect((await poll).status).toBe('unknown');
  });

  it('answers 400 naming the parameter for a missing run or target or a bad wait', async () => {
    const runId = newRunId();
    const noTarget = await SELF.fetch(`${BASE}/v1/runs/targets?run=${encodeURIComponent(runId)}`, { headers: authHeaders() });
    expect((await expectError(noTarget, 400, 'bad_request')).message).toContain('target');
    const noRun = await SELF.fetch(`${BASE}/v1/runs/targets?target=staging`, { headers: authHeaders() });
    expect((await expectError(noRun, 400, 'bad_request')).message).toContain('run');
    for (const wait of [31, -1, Number.NaN]) {
      expect((await expectError(await fetchTarget(runId, 'staging', wait), 400, 'bad_request')).message).toContain('wait');
    }
  });

  it('requires the bearer token', async () => {
    const res = await SELF.fetch(`${BASE}/v1/runs/targets?run=x&target=y`);
    await expectError(res, 401, 'unauthorized');
    await expectError(
      await SELF.fetch(`${BASE}/v1/runs/targets`, {
        method: 'POST',
        body: JSON.stringify({ runId: 'x', target: 'y', attempt: 1, status: 'running' }),
      }),
      401,
      'unauthorized',
    );
  });
});

describe('POST /v1/runs/targets', () => {
  it('stores and answers the record', async () => {
    const runId = newRunId();
    const before = Date.now();
    const record = await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    expect(record).toMatchObject({ runId, target: 'staging', attempt: 1, status: 'running', message: '' });
    expect(record.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await getTarget(runId, 'staging')).toEqual(record);
  });

  it('keeps a final status final within an attempt: the same again is 200, another is 409 conflict', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    const message = 'schema migration failed';
    const failed = await reportTarget({ runId, target: 'staging', attempt: 1, status: 'failed', message });
    expect(await reportTarget({ runId, target: 'staging', attempt: 1, status: 'failed', message: 'again' })).toEqual(failed);
    for (const status of ['succeeded', 'running', 'canceled']) {
      const error = await expectError(await postTarget({ runId, target: 'staging', attempt: 1, status }), 409, 'conflict');
      expect(error.message).toContain('failed');
      expect(TargetRecord.parse(error.record)).toEqual(failed);
    }
    expect(await getTarget(runId, 'staging')).toEqual(failed);
  });

  it('refuses an older attempt with 409 superseded', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 2, status: 'running' });
    const res = await postTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded' });
    const error = await expectError(res, 409, 'superseded');
    expect(error.message).toContain('attempt 2 of target staging');
    expect(TargetRecord.parse(error.record)).toMatchObject({ attempt: 2, status: 'running' });
  });

  it('lets a newer attempt replace a final record and supersede that target’s older pending gates', async () => {
    const gate = await register({ stepKey: 'staging/1/a', target: 'staging' });
    const prod = await register({ runId: gate.runId, stepKey: 'prod/1/a', target: 'prod' });
    const runId = gate.runId;
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'failed' });
    const rerun = await reportTarget({ runId, target: 'staging', attempt: 2, status: 'running' });
    expect(rerun).toMatchObject({ attempt: 2, status: 'running' });
    expect(await getGate(runId, gate.gateId)).toMatchObject({ state: 'superseded', message: 'superseded by re-run attempt 2' });
    expect((await getGate(runId, prod.gateId)).state).toBe('pending');
    await expectError(await postCallback(gate.callbackUri, { success: true }), 410, 'gone');
  });

  it('answers 409 superseded to a report older than the target’s gates', async () => {
    const gate = await register({ stepKey: 'staging/3/a', target: 'staging', attempt: 3 });
    await expectError(await postTarget({ runId: gate.runId, target: 'staging', attempt: 2, status: 'running' }), 409, 'superseded');
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['status unknown', { status: 'unknown' }, 'status'],
    ['status made up', { status: 'done' }, 'status'],
    ['attempt 0', { attempt: 0 }, 'attempt'],
    ['no target', { target: undefined }, 'target'],
    ['message over 2000 characters', { message: 'x'.repeat(2001) }, 'message'],
    ['an extra field', { extra: 1 }, 'extra'],
  ];
  for (const [label, change, field] of invalid) {
    it(`answers 400 naming the field: ${label}`, async () => {
      const body = { runId: newRunId(), target: 'staging', attempt: 1, status: 'running', ...change };
      const error = await expectError(await postTarget(body), 400, 'bad_request');
      expect(error.message).toContain(field);
    });
  }
});

describe('POST /v1/runs/cancel with a target', () => {
  it('cancels only that target’s pending gates and marks it canceled if running', async () => {
    const staging = await register({ stepKey: 'staging/a', target: 'staging' });
    const runId = staging.runId;
    const prod = await register({ runId, stepKey: 'prod/a', target: 'prod' });
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    await reportTarget({ runId, target: 'prod', attempt: 1, status: 'running' });
    const poll = getTarget(runId, 'staging', 10);
    await sleep(100);

    const res = await postCancel({ runId, target: 'staging', reason: 'the staging job was canceled' });
    const answer = CancelRunResponse.parse(await res.json());
    expect(answer.canceled).toEqual([staging.gateId]);
    expect(await poll).toMatchObject({ status: 'canceled', message: 'the staging job was canceled' });
    expect(await getGate(runId, staging.gateId)).toMatchObject({ state: 'canceled' });
    expect((await getGate(runId, prod.gateId)).state).toBe('pending');
    expect((await getTarget(runId, 'prod')).status).toBe('running');
  });

  it('leaves a final record as it is', async () => {
    const runId = newRunId();
    const done = await reportTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded' });
    await postCancel({ runId, target: 'staging' });
    expect(await getTarget(runId, 'staging')).toEqual(done);
  });

  it('without a target, marks every running target canceled', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    await reportTarget({ runId, target: 'prod', attempt: 1, status: 'running' });
    await reportTarget({ runId, target: 'dev', attempt: 1, status: 'succeeded' });
    await postCancel({ runId, reason: 'the run was canceled' });
    expect((await getTarget(runId, 'staging')).status).toBe('canceled');
    expect(await getTarget(runId, 'prod')).toMatchObject({ status: 'canceled', message: 'the run was canceled' });
    expect((await getTarget(runId, 'dev')).status).toBe('succeeded');
  });

  it('with gateIds, cancels those gates and leaves every record alone', async () => {
    const gate = await register({ stepKey: 'staging/a', target: 'staging' });
    await reportTarget({ runId: gate.runId, target: 'staging', attempt: 1, status: 'running' });
    await postCancel({ runId: gate.runId, gateIds: [gate.gateId], target: 'staging' });
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('canceled');
    expect((await getTarget(gate.runId, 'staging')).status).toBe('running');
  });
});
