/**
 * Retention (relay/run/retention.ts, relay/run/alarm.ts): a run's whole storage is deleted by its
 * alarm a set time after its last activity, never while a gate is pending.
 */
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { retentionMs } from '../../../relay/run/retention.ts';
import { app } from '../../../relay/worker/app.ts';
import {
  alarmOf,
  authHeaders,
  BASE,
  decide,
  expectError,
  expireInStorage,
  fetchGate,
  gateRequest,
  getGate,
  getTarget,
  newRunId,
  register,
  reportTarget,
  runStub,
} from '../helpers.ts';
import { ageRun, expectDeletionAlarm, RETENTION_MS, tableNames } from './stored.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('a run’s storage', () => {
  it('is deleted whole once nothing was written for the retention time after its last gate became final', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { progress: true, mdMessage: 'working' });
    await decide(gate.callbackUri, { success: true });
    await reportTarget({ runId: gate.runId, target: 'staging', attempt: 1, status: 'succeeded' });
    await expectDeletionAlarm(gate.runId);
    await ageRun(gate.runId, RETENTION_MS + 1000);

    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect(await tableNames(gate.runId)).toEqual([]);
    expect(await alarmOf(gate.runId)).toBeNull();
    // The object starts over empty, in the same instance: the gate is gone, the run can be used again.
    await expectError(await fetchGate(gate.runId, gate.gateId), 404, 'not_found');
    expect((await getTarget(gate.runId, 'staging')).status).toBe('unknown');
    expect((await register({ runId: gate.runId, stepKey: 'again' })).status).toBe(201);
  });

  it('is kept while a gate is pending, however old the run’s last write', async () => {
    const pending = await register({ timeoutSeconds: 3600 });
    const decided = await register({ runId: pending.runId, stepKey: 'decided' });
    await decide(decided.callbackUri, { success: true });
    await ageRun(pending.runId, 2 * RETENTION_MS);

    expect(await runDurableObjectAlarm(runStub(pending.runId))).toBe(true);
    expect((await getGate(pending.runId, pending.gateId)).state).toBe('pending');
    expect((await getGate(pending.runId, decided.gateId)).state).toBe('succeeded');
    expect(await alarmOf(pending.runId)).toBe(pending.deadline);
  });

  it('counts from when its last gate timed out, not from when it was registered', async () => {
    const gate = await register({ timeoutSeconds: 3600 });
    await ageRun(gate.runId, 2 * RETENTION_MS);
    await expireInStorage(gate.runId, gate.gateId);

    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('timed-out');
    await expectDeletionAlarm(gate.runId);
  });

  it('is kept before the retention time is up, and the alarm re-armed for it', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: false });
    await ageRun(gate.runId, RETENTION_MS - DAY_MS);
    const before = Date.now();

    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('failed');
    const alarm = (await alarmOf(gate.runId)) ?? 0;
    expect(alarm).toBeGreaterThan(before + DAY_MS - 10_000);
    expect(alarm).toBeLessThanOrEqual(Date.now() + DAY_MS);
  });

  it('of target records only gets its deletion alarm too', async () => {
    const runId = newRunId();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    await expectDeletionAlarm(runId);
    await ageRun(runId, RETENTION_MS + 1000);
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    expect(await tableNames(runId)).toEqual([]);
  });
});

describe('RETENTION_DAYS', () => {
  it('defaults to 30 days and takes whole or fractional days above 0', () => {
    expect(retentionMs(undefined)).toBe(30 * DAY_MS);
    expect(retentionMs('')).toBe(30 * DAY_MS);
    expect(retentionMs(' 7 ')).toBe(7 * DAY_MS);
    expect(retentionMs('0.5')).toBe(DAY_MS / 2);
    expect(retentionMs('3650')).toBe(3650 * DAY_MS);
  });

  it('refuses anything else', () => {
    for (const value of ['0', '-1', 'abc', '7d', '1e3', '3651', 'NaN', 'Infinity']) expect(retentionMs(value)).toBeNull();
  });

  it('answers 503 misconfigured on the action’s routes when it is not a number of days', async () => {
    const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(gateRequest()) };
    const res = await app.request(`${BASE}/v1/gates`, init, { ...env, RETENTION_DAYS: 'forever' });
    const body = await expectError(res, 503, 'misconfigured');
    expect(body.message).toContain('RETENTION_DAYS');
  });
});
