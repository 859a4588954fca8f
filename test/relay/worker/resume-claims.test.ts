/**
 * Who continues a parked job (relay/run/parking.ts resume): a park claimed by one GitHub run is
 * not handed to another (only a later attempt of that run takes it over), and a re-run (not a
 * dispatched resume) continues only a job that parked itself.
 */
import { describe, expect, it } from 'vitest';
import type { RunRef } from '../../../shared/park.ts';
import { newRunId } from '../helpers.ts';
import { newRepository, park, PARKED_RUN, RESUMED_RUN, resume, runView } from '../park.ts';

/** A third run that also tries to continue the deployment (say, one started by hand). */
const OTHER_RUN: RunRef = { id: '3003', attempt: 1, url: 'https://github.com/wild-org/app/actions/runs/3003' };

describe('a park claimed by a run', () => {
  it('is not handed to another run: not continuing, with the run that holds it', async () => {
    const runId = newRunId('claimed-other');
    await park(runId, newRepository(), { job: 'prod', targets: ['never'] });
    expect(await resume(runId, { job: 'prod' })).toMatchObject({ continuing: true, attempt: 1 });

    const refused = await resume(runId, { job: 'prod', attempt: 4, run: OTHER_RUN });
    expect(refused).toMatchObject({ continuing: false, attempt: 4, parkedBy: null, journal: [], targets: [], heldBy: RESUMED_RUN });
    expect(refused.reason).toBe(`job prod of this deployment is already being continued by run ${RESUMED_RUN.url}`);
    expect((await resume(runId, { job: 'prod', requested: false, run: OTHER_RUN })).heldBy).toEqual(RESUMED_RUN);
    expect((await runView(runId)).parks[0]?.claimedBy).toEqual(RESUMED_RUN);
  });

  it('names the run that holds it by its id when it has no page', async () => {
    const runId = newRunId('claimed-bare');
    const holder = { ...RESUMED_RUN, url: '' };
    await park(runId, newRepository(), { job: 'prod', targets: ['never'] });
    await resume(runId, { job: 'prod', run: holder });
    const refused = await resume(runId, { job: 'prod', run: OTHER_RUN });
    expect(refused).toMatchObject({ continuing: false, heldBy: holder, reason: `job prod of this deployment is already being continued by run ${holder.id}` });
  });

  it('is taken over by a later attempt of the same run (a re-run after it crashed)', async () => {
    const runId = newRunId('claimed-rerun');
    await park(runId, newRepository(), { job: 'prod', targets: ['never'] });
    await resume(runId, { job: 'prod' });
    const rerun = { ...RESUMED_RUN, attempt: 2 };
    expect(await resume(runId, { job: 'prod', requested: false, attempt: 2, run: rerun })).toMatchObject({ continuing: true, attempt: 1, parkedBy: PARKED_RUN });
    expect((await runView(runId)).parks[0]?.claimedBy).toEqual(rerun);
    expect((await resume(runId, { job: 'prod', run: OTHER_RUN })).heldBy).toEqual(rerun);
  });
});

describe('a re-run (not a dispatched resume)', () => {
  it('continues only a job whose own park is active; a dispatched resume continues any job', async () => {
    const runId = newRunId('rerun-own');
    await park(runId, newRepository(), { job: 'prod', targets: ['never'] });
    const staging = await resume(runId, { job: 'staging', requested: false, attempt: 2, run: { ...PARKED_RUN, attempt: 2 } });
    expect(staging).toMatchObject({ continuing: false, attempt: 2, parkedBy: null, journal: [], targets: [] });
    expect(staging.reason).toBe('re-run of a job that did not park: it starts afresh');
    expect(staging.heldBy ?? null).toBeNull();
    expect((await resume(runId, { job: 'staging', requested: true })).continuing).toBe(true);

    // The job that parked continues on a re-run, and again on a later attempt of the run that claimed it.
    const rerun = { ...PARKED_RUN, attempt: 2 };
    expect(await resume(runId, { job: 'prod', requested: false, attempt: 2, run: rerun })).toMatchObject({ continuing: true, attempt: 1 });
    expect(await resume(runId, { job: 'prod', requested: false, attempt: 3, run: { ...PARKED_RUN, attempt: 3 } })).toMatchObject({ continuing: true, attempt: 1 });
  });
});

describe('the initiator of a parked attempt', () => {
  it('is kept with the park and handed to the run that continues it; the run view shows only the run', async () => {
    const runId = newRunId('initiator');
    await park(runId, newRepository(), { job: 'prod', targets: ['never'], initiator: 'mona' });
    expect(await resume(runId, { job: 'prod' })).toMatchObject({ continuing: true, initiator: 'mona', parkedBy: PARKED_RUN });
    expect((await runView(runId)).parks[0]?.parkedBy).toEqual(PARKED_RUN);

    const unknown = newRunId('initiator-none');
    await park(unknown, newRepository(), { job: 'prod', targets: ['never'] });
    expect((await resume(unknown, { job: 'prod' })).initiator).toBeNull();
  });
});
