/**
 * Retention with parking (relay/run/alarm.ts): a run with a parked job still waiting for its
 * dispatch, or a due dispatch, is never deleted (a park whose dispatch was sent, failed, or is
 * manual or unneeded no longer holds it); the journal, parks and dispatches count as activity,
 * and go with the run's storage.
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { alarmOf, decide, newRunId, register, runInObject, runStub } from '../helpers.ts';
import { journal, newRepository, park, postJson, runView, scriptGitHub, settledDispatch, storedDispatches } from '../park.ts';
import { ageRun, expectDeletionAlarm, RETENTION_MS, tableNames } from './stored.ts';

/** Sets the alarm due now and plays it from the test. */
async function playAlarm(runId: string): Promise<void> {
  await runInObject(runId, (state) => state.storage.setAlarm(Date.now() + 60_000));
  expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
}

// The alarm sends dispatches on its own time: a loaded machine may need more than the default 5 s.
describe('a run with parking', { timeout: 30_000 }, () => {
  it('is never deleted while a job is parked, however old', async () => {
    const runId = newRunId('keep-parked');
    await park(runId, newRepository(), { targets: ['never'] });
    // Nothing to send and nothing to delete: no alarm until a change makes the park due.
    expect(await alarmOf(runId)).toBeNull();
    await ageRun(runId, 2 * RETENTION_MS);
    await playAlarm(runId);
    expect((await runView(runId)).parks).toHaveLength(1);
  });

  it('is never deleted while a dispatch is due, however old', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'error' });
    const runId = newRunId('keep-due');
    await park(runId, repository);
    await settledOrDue(runId);
    await runInObject(runId, (state) => {
      state.storage.sql.exec("UPDATE parks SET state = 'claimed'");
      state.storage.sql.exec('UPDATE dispatches SET next_at = ?', Date.now() + 3_600_000);
    });
    await ageRun(runId, 2 * RETENTION_MS);
    await playAlarm(runId);
    expect((await storedDispatches(runId))[0]?.state).toBe('due');
  });

  it('counts journal entries as activity, and is deleted whole once its park is closed and the time is up', async () => {
    const gate = await register({ runId: newRunId('retention-park') });
    const runId = gate.runId;
    await decide(gate.callbackUri, { success: true });
    await ageRun(runId, RETENTION_MS + 1000);
    await journal(runId, { key: 'staging/deploy' });
    await expectDeletionAlarm(runId);

    await park(runId, newRepository(), { gateIds: [gate.gateId] });
    expect((await settledDispatch(runId)).state).toBe('sent');
    // Sent: the park no longer holds the run, which is kept the retention time after its last activity.
    await expectDeletionAlarm(runId);
    expect((await postJson('/v1/runs/unpark', { runId, job: '*', attempt: 1 })).status).toBe(200);
    await expectDeletionAlarm(runId);
    await ageRun(runId, RETENTION_MS + 1000);
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    expect(await tableNames(runId)).toEqual([]);
  });
});

describe('a park whose dispatch is no longer due', { timeout: 30_000 }, () => {
  // A resumed run that crashed before it unparked, or a park to resume by hand, must not keep the run forever.
  for (const [state, ref] of [['sent', 'refs/heads/main'], ['manual', 'refs/pull/7/merge']] as const) {
    it(`does not hold the run once its dispatch is ${state}: deleted after the retention time`, async () => {
      const runId = newRunId(`retention-${state}`);
      const repository = newRepository();
      await park(runId, repository, { resume: { repository, workflow: '.github/workflows/deploy.yml', ref } });
      expect((await settledDispatch(runId)).state).toBe(state);
      expect((await runView(runId)).parks[0]?.state).toBe('parked');
      await expectDeletionAlarm(runId);
      await ageRun(runId, RETENTION_MS + 1000);
      expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
      expect(await tableNames(runId)).toEqual([]);
    });
  }
});

/** Waits until the run's dispatch was tried once. */
async function settledOrDue(runId: string): Promise<void> {
  const deadline = Date.now() + 8000;
  while (((await storedDispatches(runId))[0]?.tries ?? 0) < 1) {
    if (Date.now() > deadline) throw new Error('never tried');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
