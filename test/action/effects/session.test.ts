/** A job's session at the relay: the resume check at start, the park, the unpark (SPEC §9). */
import { describe, expect, it } from 'vitest';
import { jobKey, resumeTarget, startSession } from '../../../action/effects/session.ts';
import type { SessionDeps } from '../../../action/effects/session.ts';
import { githubContext } from '../../../action/settings.ts';
import type { Settings } from '../../../action/settings.ts';
import { FakeClock } from '../fakes.ts';
import { FakeRelay } from './fake-relay.ts';
import { recordingLog, settings } from './harness.ts';
import { PARKED_RUN, entry, stepEntry } from './park-helpers.ts';

const GITHUB = {
  GITHUB_REPOSITORY: 'octo/app',
  GITHUB_RUN_ID: '42',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW_REF: 'octo/app/.github/workflows/deploy.yml@refs/heads/main',
};

function setup(fields: Partial<Settings> = {}, env: Record<string, string> = {}): { relay: FakeRelay; deps: SessionDeps } {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  const deps = { relay: relay.client(), settings: settings({ github: githubContext({ ...GITHUB, ...env }), ...fields }), log: recordingLog(), redact: (t: string) => t, clock };
  return { relay, deps };
}

const parkedJob = {
  runId: 'octo/app/42',
  job: '*',
  attempt: 1,
  gateIds: ['gate000000000000000000'],
  targets: [],
  resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/heads/main' },
  run: PARKED_RUN,
};

describe('startSession', () => {
  it('asks nothing without park-after, a resume or a re-run: today behaviour, zero requests', async () => {
    const { relay, deps } = setup();
    const session = await startSession(deps);
    expect(session).toMatchObject({ attempt: 1, continuing: false });
    expect(session.watch.enabled).toBe(false);
    expect(relay.requests).toEqual([]);
  });

  it('with park-after asks whether it continues; not continuing, it runs its own attempt', async () => {
    const { relay, deps } = setup({ parkAfterMs: 600_000, target: 'prod', phase: 'beforeDeployment' });
    const session = await startSession(deps);
    expect(session).toMatchObject({ attempt: 1, continuing: false });
    expect(session.watch.enabled).toBe(true);
    expect(relay.requests).toEqual([
      {
        method: 'POST',
        path: '/v1/runs/resume',
        body: { runId: 'octo/app/42', job: 'prod#beforeDeployment', attempt: 1, requested: false, run: { id: '42', attempt: 1, url: 'https://github.com/octo/app/actions/runs/42' } },
      },
    ]);
  });

  it('fails at start when the event asks for a resume and the relay has nothing to continue, with its reason', async () => {
    const { deps } = setup({ resumeRequested: true });
    await expect(startSession(deps)).rejects.toThrow('input hookgate-resume: deployment octo/app/42 has nothing to continue: the deployment has no parked job');
  });

  it('says so when the relay is too old to park', async () => {
    const { relay, deps } = setup({ parkAfterMs: 600_000 });
    relay.refusals.set('POST /v1/runs/resume', 404);
    await expect(startSession(deps)).rejects.toThrow('the relay does not know parking and resuming (relay answered 404: scripted 404): update the relay, or leave input park-after empty');
  });

  it('continuing, keeps the parked attempt’s initiator (not the run the App started) and parks again with it', async () => {
    const { relay, deps } = setup({ resumeRequested: true }, { GITHUB_RUN_ID: '43', GITHUB_TRIGGERING_ACTOR: 'hookgate-relay[bot]' });
    relay.parking.parks.set('*', { request: { ...parkedJob, initiator: 'mona' }, state: 'parked', claimedBy: null });
    const session = await startSession(deps);
    expect(session).toMatchObject({ continuing: true, initiator: 'mona' });
    await session.park();
    expect(relay.parking.parks.get('*')?.request.initiator).toBe('mona');
  });

  it('not continuing, its initiator is its own run’s', async () => {
    const { deps } = setup({ parkAfterMs: 600_000 }, { GITHUB_TRIGGERING_ACTOR: 'hubot' });
    expect((await startSession(deps)).initiator).toBe('hubot');
  });

  it('fails at start when another run continues this job now, naming that run', async () => {
    const { relay, deps } = setup({ resumeRequested: true }, { GITHUB_RUN_ID: '43' });
    const held = { id: '44', attempt: 1, url: 'https://github.com/octo/app/actions/runs/44' };
    relay.parking.parks.set('*', { request: parkedJob, state: 'claimed', claimedBy: held });
    await expect(startSession(deps)).rejects.toThrow(
      'deployment octo/app/42: job * of this deployment is already being continued by run https://github.com/octo/app/actions/runs/44; wait for that run',
    );
  });

  it('on a plain re-run against a relay from before parking runs its own attempt, as always', async () => {
    const { relay, deps } = setup({}, { GITHUB_RUN_ATTEMPT: '2' });
    relay.refusals.set('POST /v1/runs/resume', 404);
    expect(await startSession(deps)).toMatchObject({ attempt: 2, continuing: false });
  });

  it('on a re-run of a resumed run that has nothing left to continue runs its own attempt (no failure at start)', async () => {
    const { deps } = setup({ resumeRequested: true }, { GITHUB_RUN_ATTEMPT: '2' });
    expect(await startSession(deps)).toMatchObject({ attempt: 2, continuing: false });
  });

  it('on a re-run (attempt 2) continues the parked attempt 1: adopts it, claims its park, and knows its targets', async () => {
    const { relay, deps } = setup({}, { GITHUB_RUN_ATTEMPT: '2' });
    relay.parking.parked(parkedJob, [stepEntry('staging/deploy', 'command', 'deploy', 'deploy'), entry('staging#end', { type: 'target', outcome: 'succeeded', message: 'ok' })]);
    const session = await startSession(deps);
    expect(session).toMatchObject({ attempt: 1, continuing: true });
    expect(relay.parking.parks.get('*')).toMatchObject({ state: 'claimed', claimedBy: { id: '42', attempt: 2 } });
    expect(session.journal.kept('staging')?.outcome).toBe('succeeded');
    expect(session.startedBefore('staging')).toBe(true);
    expect(session.startedBefore('prod')).toBe(false);
    // The job ends without parking again: its park is closed.
    await session.end();
    expect(relay.parking.parks.get('*')?.state).toBe('closed');
  });

  it('parks with the gates and upstream targets it waited for and where to resume; retries a relay that fails', async () => {
    const { relay, deps } = setup({ parkAfterMs: 0 });
    const session = await startSession(deps);
    relay.requests.length = 0;
    relay.refusals.set('POST /v1/runs/park', 503);
    const waits = { gates: [{ gateId: 'gate000000000000000000', target: 'prod', name: 'Tests', kind: 'webhook' as const, approvalUrl: null, deadline: 0 }], targets: ['staging'] };
    Object.defineProperty(session.watch, 'parked', { value: waits });
    const parked = await session.park();
    expect(parked.answer).toEqual({ job: '*', resume: 'automatic', reason: null });
    expect(relay.requests.map((r) => r.path)).toEqual(['/v1/runs/park', '/v1/runs/park']);
    expect(relay.parking.parks.get('*')?.request).toEqual({
      ...parkedJob,
      targets: ['staging'],
      run: { id: '42', attempt: 1, url: 'https://github.com/octo/app/actions/runs/42' },
    });
  });

  it('rejects a park the relay cannot store', async () => {
    const { relay, deps } = setup({ parkAfterMs: 0 });
    const session = await startSession(deps);
    relay.outages.set('POST /v1/runs/park', 503);
    await expect(session.park()).rejects.toThrow('relay answered 503');
  });
});

describe('jobKey and resumeTarget', () => {
  it('names the job and the workflow to dispatch', () => {
    expect(jobKey({ target: null, phase: null })).toBe('*');
    expect(jobKey({ target: 'prod', phase: null })).toBe('prod');
    expect(jobKey({ target: 'prod', phase: 'afterDeployment' })).toBe('prod#afterDeployment');
    expect(resumeTarget(githubContext({ ...GITHUB, GITHUB_REF: 'refs/tags/v1' }))).toEqual({ repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/tags/v1' });
    expect(() => resumeTarget(githubContext({ ...GITHUB, GITHUB_WORKFLOW_REF: '' }))).toThrow('cannot park: the workflow to resume is unknown');
  });
});
