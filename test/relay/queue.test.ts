/** The deploy queue (relay/queue/*): enter, hold, reject, wait, replace, leave; queue gates decided through the run's object. */
import { describe, expect, it } from 'vitest';
import { WENT_ON } from '../../relay/queue/rules.ts';
import { MAX_WAKE_GATES } from '../../relay/queue/store.ts';
import { getGate, newRunId, register } from './helpers.ts';
import { enterRequest, lookUp, newQueue, queueCall, runUrl, storageOf } from './queue-helpers.ts';

/** A webhook gate in `runId`, as the action registers its queue gate. */
async function queueGate(runId: string): Promise<string> {
  const gate = await register({ runId, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue', timeoutSeconds: 86_400 });
  return gate.gateId;
}

describe('the deploy queue', () => {
  it('lets the first deployment hold the application and names it to the next, which waits (enqueueOne)', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    expect(await queueCall('enter', enterRequest(key, a, { runUrl: runUrl(1) }))).toEqual({ position: 'holding', holder: null, replacedBy: null });
    const waiting = await queueCall('enter', enterRequest(key, b));
    expect(waiting.position).toBe('waiting');
    expect(waiting.holder).toMatchObject({ runId: a, attempt: 1, runUrl: runUrl(1) });
    expect((await lookUp(key, b)).position).toBe('waiting');
    expect((await lookUp(key, a)).position).toBe('holding');
    expect((await lookUp(key, newRunId('stranger'))).position).toBe('gone');
  });

  it('rejects a deployment while another holds the application (reject), and keeps nothing of it', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a, { runUrl: runUrl(7), strategy: 'reject' }));
    const rejected = await queueCall('enter', enterRequest(key, b, { strategy: 'reject' }));
    expect(rejected.position).toBe('rejected');
    expect(rejected.holder).toMatchObject({ runId: a, runUrl: runUrl(7) });
    expect((await lookUp(key, b)).position).toBe('gone');
    // Once the holder left, the same deployment is let in.
    await queueCall('leave', { ...key, runId: a });
    expect((await queueCall('enter', enterRequest(key, b, { strategy: 'reject' }))).position).toBe('holding');
  });

  it('keeps the place of a deployment that enters again (a re-run, a resumed run, another job of the run)', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a, { targets: ['staging'] }));
    await queueCall('enter', enterRequest(key, b));
    expect((await queueCall('enter', enterRequest(key, a, { attempt: 2, runUrl: runUrl(2), targets: ['prod'] }))).position).toBe('holding');
    const again = await queueCall('enter', enterRequest(key, b, { strategy: 'reject' }));
    expect(again.position).toBe('waiting');
    // The holder's re-run shows its newest attempt and page.
    expect(again.holder).toMatchObject({ runId: a, attempt: 2, runUrl: runUrl(2) });
    // Both jobs' targets count: leaving staging alone does not free the application.
    await queueCall('leave', { ...key, runId: a, target: 'staging' });
    expect((await lookUp(key, a)).position).toBe('holding');
    await queueCall('leave', { ...key, runId: a, target: 'prod' });
    expect((await lookUp(key, b)).position).toBe('holding');
  });

  it('replaces the waiting deployment with a newer one: the replaced one’s queue gate fails naming the newer run', async () => {
    const key = newQueue();
    const [a, b, c] = [newRunId('a'), newRunId('b'), newRunId('c')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gateB = await queueGate(b);
    expect((await queueCall('enter', enterRequest(key, b, { wakeGateId: gateB }))).position).toBe('waiting');

    const newer = await queueCall('enter', enterRequest(key, c, { runUrl: runUrl(3) }));
    expect(newer.position).toBe('waiting');
    const decided = await getGate(b, gateB);
    expect(decided.state).toBe('failed');
    expect(decided.message).toBe(`replaced in the deploy queue by ${runUrl(3)}`);
    const replaced = await lookUp(key, b);
    expect(replaced.position).toBe('replaced');
    expect(replaced.replacedBy).toMatchObject({ runId: c, runUrl: runUrl(3) });
    // The replaced one entering again with the same attempt hears it, and does not take the place back.
    expect((await queueCall('enter', enterRequest(key, b))).position).toBe('replaced');
    expect((await lookUp(key, c)).position).toBe('waiting');
  });

  it('lets the waiting deployment go on when the holder leaves: its queue gate succeeds', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gateB = await queueGate(b);
    await queueCall('enter', enterRequest(key, b, { wakeGateId: gateB }));
    expect((await getGate(b, gateB)).state).toBe('pending');

    const left = await queueCall('leave', { ...key, runId: a });
    expect(left.position).toBe('gone');
    expect(left.holder).toMatchObject({ runId: b });
    const gate = await getGate(b, gateB);
    expect(gate.state).toBe('succeeded');
    expect(gate.message).toBe(WENT_ON);
    expect((await lookUp(key, b)).position).toBe('holding');
  });

  it('frees the application only once every target of the holder left', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a, { targets: ['staging', 'prod'] }));
    await queueCall('enter', enterRequest(key, b));
    const gateB = await queueGate(b);
    await queueCall('enter', enterRequest(key, b, { wakeGateId: gateB }));
    expect((await queueCall('leave', { ...key, runId: a, target: 'staging' })).position).toBe('holding');
    expect((await getGate(b, gateB)).state).toBe('pending');
    await queueCall('leave', { ...key, runId: a, target: 'prod' });
    expect((await getGate(b, gateB)).state).toBe('succeeded');
  });

  it('decides at once a queue gate registered after the holder left (the job heard `waiting` just before)', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    await queueCall('leave', { ...key, runId: a });
    const gateB = await queueGate(b);
    expect((await queueCall('enter', enterRequest(key, b, { wakeGateId: gateB }))).position).toBe('holding');
    expect((await getGate(b, gateB)).state).toBe('succeeded');
  });

  it('lets the waiting one leave without touching the holder, and deletes its storage once empty', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    expect((await storageOf(key)).tables.sort()).toEqual(['members', 'replaced', 'wakes']);
    await queueCall('leave', { ...key, runId: b });
    expect((await lookUp(key, a)).position).toBe('holding');
    expect((await lookUp(key, b)).position).toBe('gone');
    await queueCall('leave', { ...key, runId: a });
    expect(await storageOf(key)).toEqual({ alarm: null, tables: [] });
    // A leave by someone not in the queue changes nothing.
    expect((await queueCall('leave', { ...key, runId: a })).position).toBe('gone');
  });

  it('keeps queues apart by repository and application, the repository in any case', async () => {
    const key = newQueue('acme/potato-facts');
    const [a, b, c] = [newRunId('a'), newRunId('b'), newRunId('c')];
    await queueCall('enter', enterRequest(key, a));
    expect((await queueCall('enter', enterRequest({ ...key, repository: 'ACME/Potato-Facts' }, b, { strategy: 'reject' }))).position).toBe('rejected');
    expect((await queueCall('enter', enterRequest({ ...key, application: `${key.application}-2` }, c, { strategy: 'reject' }))).position).toBe('holding');
    expect((await queueCall('enter', enterRequest({ ...key, repository: 'acme/other' }, c, { strategy: 'reject' }))).position).toBe('holding');
  });

  it('remembers a replaced deployment after the queue emptied: entering again with its attempt, it is still replaced', async () => {
    const key = newQueue();
    const [a, b, c] = [newRunId('a'), newRunId('b'), newRunId('c')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    await queueCall('enter', enterRequest(key, c));
    await queueCall('leave', { ...key, runId: a });
    await queueCall('leave', { ...key, runId: c });
    // Nobody holds or waits; the record of the replacement keeps the storage (and an alarm to forget it).
    expect((await storageOf(key)).alarm).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await queueCall('enter', enterRequest(key, b))).position).toBe('replaced');
    expect((await queueCall('enter', enterRequest(key, b, { attempt: 2 }))).position).toBe('holding');
  });

  it('fails the queue gates of a waiting deployment that leaves: its other jobs do not wait for nothing', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b, { targets: ['staging', 'prod'] }));
    const gates = [await queueGate(b), (await register({ runId: b, stepKey: 'attempt-1/prod/#queue/deploy queue', target: 'prod', name: 'deploy queue' })).gateId];
    for (const gate of gates) await queueCall('enter', enterRequest(key, b, { targets: ['staging', 'prod'], wakeGateId: gate }));
    await queueCall('leave', { ...key, runId: b });
    for (const gate of gates) expect((await getGate(b, gate)).state).toBe('failed');
  });

  it(`fails the oldest queue gate past ${MAX_WAKE_GATES} of one waiting deployment instead of forgetting it`, async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    await queueCall('enter', enterRequest(key, b));
    const gates: string[] = [];
    for (let n = 0; n <= MAX_WAKE_GATES; n++) {
      const gate = await register({ runId: b, stepKey: `attempt-1/t${n}/#queue/deploy queue`, target: `t${n}`, name: 'deploy queue' });
      gates.push(gate.gateId);
      await queueCall('enter', enterRequest(key, b, { wakeGateId: gate.gateId }));
    }
    expect((await getGate(b, gates[0] ?? '')).state).toBe('failed');
    expect((await getGate(b, gates[1] ?? '')).state).toBe('pending');
  });
});
