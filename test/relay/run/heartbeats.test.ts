/**
 * A gate's heartbeatTimeout enforced by the run's alarm (relay/run/heartbeats.ts): stored, so it
 * holds after a restart and while the job is parked; played with runDurableObjectAlarm after moving
 * the stored last-heard time into the past (no test waits for the clock).
 */
import { evictDurableObject, runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { alarmOf, authHeaders, BASE, decide, expectError, expireInStorage, getGate, postCallback, register, runInObject, runStub, sleep } from '../helpers.ts';
import { newRepository, park, settledDispatch, storedDispatches } from '../park.ts';

async function called(runId: string, gateId: string): Promise<void> {
  const res = await SELF.fetch(`${BASE}/v1/gates/called`, { method: 'POST', headers: authHeaders(), body: JSON.stringify({ runId, gateId }) });
  expect(res.status).toBe(200);
}

/** Moves the gate's last-heard time `ms` into the past in its own table; the time it now holds. */
async function quietFor(runId: string, gateId: string, ms: number): Promise<number> {
  const at = Date.now() - ms;
  await runInObject(runId, (state) => {
    state.storage.sql.exec('UPDATE gates SET last_heard_at = ? WHERE id = ?', at, gateId);
  });
  return at;
}

const FIVE_MINUTES = 5 * 60 * 1000;

describe('a heartbeatTimeout', () => {
  it('moves the alarm to the last-heard time plus the timeout once the call is reported', async () => {
    const gate = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    expect(await alarmOf(gate.runId)).toBe(gate.deadline);
    await called(gate.runId, gate.gateId);
    const view = await getGate(gate.runId, gate.gateId);
    expect(await alarmOf(gate.runId)).toBe((view.lastHeardAt ?? 0) + FIVE_MINUTES);
  });

  it('fails a gate nothing was heard from for that long, saying since when, and the alarm re-arms', async () => {
    const gate = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    const later = await register({ runId: gate.runId, stepKey: 'later', timeoutSeconds: 7200 });
    await called(gate.runId, gate.gateId);
    const heard = await quietFor(gate.runId, gate.gateId, FIVE_MINUTES + 1000);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    const view = await getGate(gate.runId, gate.gateId);
    expect(view).toMatchObject({ state: 'failed', lastHeardAt: heard });
    expect(view.message).toBe(
      `the external system went quiet: nothing heard for 5 minutes (heartbeatTimeout) since ${new Date(heard).toISOString()}`,
    );
    expect(view.decidedAt).not.toBeNull();
    expect(await alarmOf(gate.runId)).toBe(later.deadline);
  });

  it('answers a late callback of any kind 410, as after a timeout: the relay’s failure and message stand', async () => {
    const gate = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    await called(gate.runId, gate.gateId);
    await quietFor(gate.runId, gate.gateId, FIVE_MINUTES + 1000);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    const failed = await getGate(gate.runId, gate.gateId);
    expect(failed.state).toBe('failed');
    for (const body of [{ success: false, mdMessage: 'the build broke', outputs: { build: 'b-1' } }, { success: true }, { progress: true }, { progress: true, mdMessage: 'late' }]) {
      const error = await expectError(await postCallback(gate.callbackUri, body), 410, 'gone');
      expect(error.message).toBe('the relay failed the gate: nothing was heard within its heartbeatTimeout; nothing waits for it');
      expect(error['gate']).toEqual({ gateId: gate.gateId, state: 'failed', message: failed.message });
    }
    expect(await getGate(gate.runId, gate.gateId)).toEqual(failed);
  });

  it('leaves a failure the sender posted as any decision: its repeat 200, a different one 409', async () => {
    const gate = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    await called(gate.runId, gate.gateId);
    expect(await decide(gate.callbackUri, { success: false, mdMessage: 'the build broke' })).toMatchObject({ state: 'failed', message: 'the build broke' });
    expect((await postCallback(gate.callbackUri, { success: false })).status).toBe(200);
    await expectError(await postCallback(gate.callbackUri, { success: true }), 409, 'conflict');
  });

  it('is postponed by anything heard: the alarm run early finds nothing due and re-arms for the new time', async () => {
    const gate = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    await called(gate.runId, gate.gateId);
    await quietFor(gate.runId, gate.gateId, FIVE_MINUTES - 60_000);
    await decide(gate.callbackUri, { progress: true });
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('pending');
    expect(await alarmOf(gate.runId)).toBe((view.lastHeardAt ?? 0) + FIVE_MINUTES);
  });

  it('ends the gate at its due time even when the alarm is late: a heartbeat after it is refused', async () => {
    const gate = await register({ heartbeatSeconds: 60 });
    await called(gate.runId, gate.gateId);
    await quietFor(gate.runId, gate.gateId, 61_000);
    await expectError(await postCallback(gate.callbackUri, { progress: true }), 410, 'gone');
    expect((await getGate(gate.runId, gate.gateId)).message).toMatch(/^the external system went quiet: nothing heard for 1 minute \(heartbeatTimeout\)/);
  });

  it('does nothing before the call is reported, nor for a gate without one', async () => {
    const uncalled = await register({ heartbeatSeconds: 1, timeoutSeconds: 3600 });
    const without = await register({ runId: uncalled.runId, stepKey: 'without', timeoutSeconds: 3600 });
    await called(without.runId, without.gateId);
    await quietFor(without.runId, without.gateId, 24 * 60 * 60 * 1000);
    expect(await alarmOf(uncalled.runId)).toBe(uncalled.deadline);
    expect(await runDurableObjectAlarm(runStub(uncalled.runId))).toBe(true);
    expect((await getGate(uncalled.runId, uncalled.gateId)).state).toBe('pending');
    expect((await getGate(without.runId, without.gateId)).state).toBe('pending');
  });

  it('lets a deadline that came first time the gate out', async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    await called(gate.runId, gate.gateId);
    await expireInStorage(gate.runId, gate.gateId);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('timed-out');
  });

  it('holds after the object restarts: it is stored, not kept in memory', async () => {
    const gate = await register({ heartbeatSeconds: 120 });
    await called(gate.runId, gate.gateId);
    await evictDurableObject(runStub(gate.runId));
    await quietFor(gate.runId, gate.gateId, 121_000);
    await evictDurableObject(runStub(gate.runId));
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).message).toMatch(/nothing heard for 2 minutes/);
  });

  it('answers a waiting long-poll with the failure', { timeout: 40_000 }, async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    await called(gate.runId, gate.gateId);
    const started = Date.now();
    const poll = getGate(gate.runId, gate.gateId, 30);
    // Let the poll reach the object first, so the alarm's failure must wake it.
    await sleep(150);
    await quietFor(gate.runId, gate.gateId, FIVE_MINUTES + 1000);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await poll).state).toBe('failed');
    // Woken, not answered at the end of its 30 s window.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('resumes a parked job as a decision does', { timeout: 30_000 }, async () => {
    const repository = newRepository();
    const gate = await register({ heartbeatSeconds: 300 });
    await called(gate.runId, gate.gateId);
    await park(gate.runId, repository, { gateIds: [gate.gateId] });
    expect(await storedDispatches(gate.runId)).toEqual([]);
    await quietFor(gate.runId, gate.gateId, FIVE_MINUTES + 1000);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('failed');
    expect(await storedDispatches(gate.runId)).toHaveLength(1);
    expect((await settledDispatch(gate.runId)).state).toBe('sent');
  });
});
