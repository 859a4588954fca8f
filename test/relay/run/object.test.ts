/** The run's Durable Object (relay/run/object.ts): storage, RPC results and long-poll wake-ups. */
import { describe, expect, it } from 'vitest';
import { GateView, RegisterGateRequest } from '../../../shared/protocol.ts';
import { BASE, decide, gateRequest, getGate, register, registerApproval, runStub, sleep, TOKEN_CALLER } from '../helpers.ts';
import { newGate, storedGate } from './stored.ts';

describe('RPC methods', () => {
  it('stores a registered gate before answering', async () => {
    const request = RegisterGateRequest.parse(gateRequest());
    const stub = runStub(request.runId);
    const links = newGate(request);
    const result = await stub.register(TOKEN_CALLER, request, links);
    if (!result.ok) throw new Error(`register refused: ${result.reason}`);
    const gate = result.gate;
    expect(gate).toMatchObject({ ...links, created: true, kind: 'webhook', attempt: 1, decidedBy: null, approvalUrl: null });
    expect(gate.callbackUri.startsWith(`${BASE}/cb/`)).toBe(true);
    expect(await storedGate(request.runId, gate.gateId)).toMatchObject({ state: 'pending', deadline: gate.deadline });
    const again = await stub.register(TOKEN_CALLER, request, newGate(request));
    expect(again).toMatchObject({ ok: true, gate: { gateId: gate.gateId, callbackUri: gate.callbackUri, created: false } });
  });

  it('answers callback with not-found, ok, conflict and final as the gate moves', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    expect(await stub.callback('AAAAAAAAAAAAAAAAAAAAAA', { success: true })).toEqual({ ok: false, reason: 'not-found' });

    const decided = await stub.callback(gate.gateId, { success: false, mdMessage: 'red' });
    expect(decided).toMatchObject({ ok: true, gate: { state: 'failed', message: 'red' } });
    expect(await storedGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', message: 'red' });
    expect((await storedGate(gate.runId, gate.gateId))?.decided_at).not.toBeNull();

    expect(await stub.callback(gate.gateId, { success: false })).toMatchObject({ ok: true, gate: { state: 'failed' } });
    expect(await stub.callback(gate.gateId, { success: true })).toMatchObject({
      ok: false,
      reason: 'conflict',
      gate: { state: 'failed' },
    });

    const other = await register({ runId: gate.runId, stepKey: 'other' });
    await stub.cancelRun(TOKEN_CALLER, { runId: gate.runId, reason: 'stop' });
    expect(await stub.callback(other.gateId, { success: true })).toMatchObject({
      ok: false,
      reason: 'final',
      gate: { state: 'canceled' },
    });
  });

  it('does not let a progress report touch a decided gate', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    await stub.callback(gate.gateId, { success: true, mdMessage: 'done' });
    const late = await stub.callback(gate.gateId, { progress: true, mdMessage: 'still running' });
    expect(late).toMatchObject({ ok: false, reason: 'conflict', gate: { state: 'succeeded', message: 'done', progress: [] } });
  });

  it('answers a callback on an approval gate as on no gate, and changes nothing', async () => {
    const gate = await registerApproval();
    const stub = runStub(gate.runId);
    expect(await stub.callback(gate.gateId, { success: true, mdMessage: 'bypass' })).toEqual({ ok: false, reason: 'not-found' });
    expect(await stub.callback(gate.gateId, { progress: true, mdMessage: 'noise' })).toEqual({ ok: false, reason: 'not-found' });
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', message: null, decidedBy: null, progress: [] });
  });

  it('keeps the latest 50 progress reports of a gate, numbered from 1 by seq, in order', async () => {
    const gate = await register();
    const stub = runStub(gate.runId);
    for (let index = 1; index <= 56; index += 1) {
      await stub.callback(gate.gateId, { progress: true, mdMessage: `step ${index}` });
    }
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.progress).toHaveLength(50);
    expect(view.progress[0]).toMatchObject({ seq: 7, message: 'step 7' });
    expect(view.progress[49]).toMatchObject({ seq: 56, message: 'step 56' });
    expect(view.progress.map((report) => report.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 7));
  });

  it('numbers each gate’s reports on their own', async () => {
    const a = await register();
    const b = await register({ runId: a.runId, stepKey: 'b' });
    const stub = runStub(a.runId);
    await stub.callback(a.gateId, { progress: true, mdMessage: 'a1' });
    await stub.callback(a.gateId, { progress: true, mdMessage: 'a2' });
    await stub.callback(b.gateId, { progress: true, mdMessage: 'b1' });
    expect((await getGate(a.runId, a.gateId)).progress.map((report) => report.seq)).toEqual([1, 2]);
    expect((await getGate(a.runId, b.gateId)).progress.map((report) => report.seq)).toEqual([1]);
  });

  it('answers wait with not-found for an unknown gate', async () => {
    const gate = await register();
    const result = await runStub(gate.runId).wait(TOKEN_CALLER, gate.runId, 'AAAAAAAAAAAAAAAAAAAAAA', 1);
    expect(result).toEqual({ ok: false, reason: 'not-found' });
  });

  it('wakes a waiting poll on a progress report with the report in the view', async () => {
    const gate = await register();
    const poll = runStub(gate.runId).wait(TOKEN_CALLER, gate.runId, gate.gateId, 10);
    await sleep(100);
    const started = Date.now();
    await decide(gate.callbackUri, { progress: true, mdMessage: 'half way' });
    const result = await poll;
    if (!result.ok) throw new Error(`wait refused: ${result.reason}`);
    const view = GateView.parse(result.gate);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(view.state).toBe('pending');
    expect(view.progress.map((report) => report.message)).toEqual(['half way']);
  });
});
