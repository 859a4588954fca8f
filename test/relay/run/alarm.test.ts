/** The run object's single alarm (relay/run/alarm.ts): gate deadlines, played with runDurableObjectAlarm, and eviction. */
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  alarmOf,
  decide,
  expectError,
  expireInStorage,
  getGate,
  postCallback,
  postCancel,
  register,
  runStub,
  sleep,
} from '../helpers.ts';
import { expectDeletionAlarm, storedGate } from './stored.ts';

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

    // The last decision leaves the alarm for the run's deletion; run early, it changes nothing.
    await decide(nearer.callbackUri, { success: true });
    await expectDeletionAlarm(runId);
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    expect((await getGate(runId, nearer.gateId)).state).toBe('succeeded');
    await expectDeletionAlarm(runId);
  });

  it('moves to the run’s deletion when the run is canceled', async () => {
    const a = await register({ timeoutSeconds: 60 });
    await register({ runId: a.runId, stepKey: 'b', timeoutSeconds: 120 });
    expect(await alarmOf(a.runId)).toBe(a.deadline);
    await postCancel({ runId: a.runId });
    await expectDeletionAlarm(a.runId);
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
    await expectDeletionAlarm(runId);
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
    await expectDeletionAlarm(gate.runId);
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
