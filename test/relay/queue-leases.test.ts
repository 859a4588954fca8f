/** The deploy queue's leases: renewals, a parked job's holdUntil, and the alarm that ends a place nobody renews. */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import type { QueueObject } from '../../relay/queue/object.ts';
import { describe, expect, it } from 'vitest';
import { BETWEEN_JOBS_MS } from '../../relay/queue/rules.ts';
import { LEASE_SECONDS, MAX_HOLD_SECONDS } from '../../shared/queue.ts';
import { expectError, getGate, newRunId, register } from './helpers.ts';
import { enterRequest, lookUp, newQueue, postQueue, queueCall, queueStub, setLease, storageOf } from './queue-helpers.ts';

const DAY_MS = 86_400_000;

describe('the deploy queue’s leases', () => {
  it('arms the alarm for the nearest lease end, LEASE_SECONDS after an enter or a renewal', async () => {
    const key = newQueue();
    const a = newRunId('a');
    const before = Date.now();
    await queueCall('enter', enterRequest(key, a));
    const { alarm } = await storageOf(key);
    expect(alarm).toBeGreaterThanOrEqual(before + LEASE_SECONDS * 1000);
    expect(alarm).toBeLessThanOrEqual(Date.now() + LEASE_SECONDS * 1000);
    await setLease(key, a, Date.now() + 60_000);
    expect((await queueCall('renew', { ...key, runId: a })).position).toBe('holding');
    expect((await storageOf(key)).alarm).toBeGreaterThanOrEqual(before + LEASE_SECONDS * 1000);
  });

  it('ends a holder’s place when its lease runs out (the alarm): the waiting one goes on', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gate = await register({ runId: b, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue' });
    await queueCall('enter', enterRequest(key, b, { wakeGateId: gate.gateId }));
    await setLease(key, a, Date.now() - 1);
    expect(await runDurableObjectAlarm(queueStub(key))).toBe(true);
    expect((await getGate(b, gate.gateId)).state).toBe('succeeded');
    expect((await lookUp(key, a)).position).toBe('gone');
    expect((await lookUp(key, b)).position).toBe('holding');
  });

  it('ends a lapsed place at the next request even before the alarm ran', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await setLease(key, a, Date.now() - 1);
    expect((await queueCall('enter', enterRequest(key, b, { strategy: 'reject' }))).position).toBe('holding');
    // The lapsed holder renewing finds its place gone.
    expect((await queueCall('renew', { ...key, runId: a })).position).toBe('gone');
  });

  it('fails the queue gate of a waiting deployment whose lease ran out, and deletes the emptied queue', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gate = await register({ runId: b, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue' });
    await queueCall('enter', enterRequest(key, b, { wakeGateId: gate.gateId }));
    await setLease(key, b, Date.now() - 1);
    await setLease(key, a, Date.now() - 1);
    expect(await runDurableObjectAlarm(queueStub(key))).toBe(true);
    const decided = await getGate(b, gate.gateId);
    expect(decided.state).toBe('failed');
    expect(decided.message).toMatch(/ran out/);
    expect(await storageOf(key)).toEqual({ alarm: null, tables: [] });
  });

  it('holds a parked job’s place until holdUntil, and its own renewal without it (its resumed run) brings the lease back', async () => {
    const key = newQueue();
    const a = newRunId('a');
    await queueCall('enter', enterRequest(key, a));
    const holdUntil = Date.now() + 3 * DAY_MS;
    expect((await queueCall('renew', { ...key, runId: a, holdUntil })).position).toBe('holding');
    expect((await storageOf(key)).alarm).toBe(holdUntil);
    // Played early, the alarm ends nothing.
    expect(await runDurableObjectAlarm(queueStub(key))).toBe(true);
    expect((await lookUp(key, a)).position).toBe('holding');
    await queueCall('renew', { ...key, runId: a });
    expect((await storageOf(key)).alarm).toBeLessThanOrEqual(Date.now() + LEASE_SECONDS * 1000);
  });

  it('keeps holds per job (one job per environment): a sibling’s renewal, shorter hold or leave keeps a parked job’s hold; its own resumed job ends it', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a, { targets: ['staging', 'prod', 'qa'] }));
    // prod parks on an approval: its place is held for a day.
    const holdUntil = Date.now() + DAY_MS;
    await queueCall('renew', { ...key, runId: a, target: 'prod', holdUntil });
    // staging still runs and renews every 2 minutes; qa parks only on an upstream target (a lease's hold).
    await queueCall('renew', { ...key, runId: a, target: 'staging' });
    await queueCall('renew', { ...key, runId: a, target: 'qa', holdUntil: Date.now() + LEASE_SECONDS * 1000 });
    await queueCall('leave', { ...key, runId: a, target: 'staging' });
    expect((await storageOf(key)).alarm).toBe(holdUntil);
    expect((await queueCall('enter', enterRequest(key, b, { strategy: 'reject' }))).position).toBe('rejected');
    // prod's resumed job runs: its hold ends, and its renewals keep the place from now on.
    await queueCall('renew', { ...key, runId: a, target: 'prod' });
    expect((await storageOf(key)).alarm).toBeLessThanOrEqual(Date.now() + LEASE_SECONDS * 1000);
  });

  it('keeps the place an hour after one environment’s job left, for the next one’s job to start', async () => {
    const key = newQueue();
    const a = newRunId('a');
    await queueCall('enter', enterRequest(key, a, { targets: ['staging', 'prod'] }));
    const before = Date.now();
    await queueCall('leave', { ...key, runId: a, target: 'staging' });
    expect((await storageOf(key)).alarm).toBeGreaterThanOrEqual(before + BETWEEN_JOBS_MS);
    expect((await lookUp(key, a)).position).toBe('holding');
  });

  it('a re-run (a newer attempt) starts with no target left: the application is free only once its own jobs left', async () => {
    const key = newQueue();
    const a = newRunId('a');
    await queueCall('enter', enterRequest(key, a, { targets: ['staging', 'prod'] }));
    await queueCall('leave', { ...key, runId: a, target: 'staging' });
    await queueCall('enter', enterRequest(key, a, { targets: ['staging', 'prod'], attempt: 2 }));
    expect((await queueCall('leave', { ...key, runId: a, target: 'prod' })).position).toBe('holding');
    expect((await queueCall('leave', { ...key, runId: a, target: 'staging' })).position).toBe('gone');
  });

  it('refuses a holdUntil more than 30 days ahead, naming the field', async () => {
    const key = newQueue();
    const a = newRunId('a');
    await queueCall('enter', enterRequest(key, a));
    const res = await postQueue('renew', { ...key, runId: a, holdUntil: Date.now() + MAX_HOLD_SECONDS * 1000 + DAY_MS });
    const body = await expectError(res, 400, 'bad_request');
    expect(body.message).toMatch(/^holdUntil: /);
  });

  it('sends again, at the alarm, a decision whose send was cut short (the outbox)', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gate = await register({ runId: b, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue' });
    // As if the object was evicted between storing the decision and sending it: claimed, due again now.
    await runInDurableObject(queueStub(key), (_instance: QueueObject, state) => {
      state.storage.sql.exec('INSERT INTO wakes (run_id, gate_id, success, md_message, tries, next_at) VALUES (?, ?, 1, ?, 0, ?)', b, gate.gateId, 'went on', Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(queueStub(key))).toBe(true);
    expect((await getGate(b, gate.gateId)).state).toBe('succeeded');
    const left = await runInDurableObject(queueStub(key), (_instance: QueueObject, state) => state.storage.sql.exec('SELECT count(*) AS n FROM wakes').one().n);
    expect(left).toBe(0);
  });
});
