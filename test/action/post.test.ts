/**
 * The post step as the runner runs it: state from the main step (STATE_*), inputs
 * (INPUT_*), the relay and GitHub over HTTP (local fakes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGitHubDeployments } from '../../action/clients/github-deployments.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { FakeRelay } from './effects/fake-relay.ts';
import { recordingLog } from './effects/harness.ts';
import { FakeClock } from './fakes.ts';

const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
const SHA = 'c0ffee254729296a45a3885639ac7ef10b0a8e1f';
const RUN = 'octo/app/42';

let github: FakeGitHub;
let relay: FakeRelay;
let served: { url: string; close: () => Promise<void> };
let saved: NodeJS.ProcessEnv;

beforeEach(async () => {
  saved = { ...process.env };
  github = await startFakeGitHub(TOKEN);
  relay = new FakeRelay(new FakeClock());
  served = await relay.serve();
  Object.assign(process.env, {
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: 'octo/app',
    GITHUB_SHA: SHA,
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    'INPUT_RELAY-URL': served.url,
    'INPUT_RELAY-TOKEN': 'relay-token',
    'INPUT_GITHUB-TOKEN': TOKEN,
    'STATE_deployment-id': RUN,
    STATE_finished: 'true',
    STATE_target: 'staging',
    STATE_phase: 'beforeDeployment',
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env = saved;
  await served.close();
  await github.close();
  expect(github.refusals()).toEqual([]);
});

/** What the beforeDeployment gate step's main leaves when its gates passed. */
async function gatesPassed(): Promise<void> {
  relay.targets.set('staging', { runId: RUN, target: 'staging', attempt: 1, status: 'running', message: 'beforeDeployment gates', updatedAt: 0 });
  const options = { token: TOKEN, repository: 'octo/app', sha: SHA, ref: '', runUrl: '', deploymentId: RUN, attempt: 1, log: recordingLog() };
  await createGitHubDeployments(options).start('staging', 'beforeDeployment gates');
}

/** Runs action/post.ts as the runner does: its module runs the post step. */
async function runPost(): Promise<void> {
  vi.resetModules();
  await import('../../action/post.ts');
}

const githubStates = (): string[] => github.deployments.flatMap((d) => d.statuses.map((s) => s.state));

describe('the post step of a beforeDeployment gate step, its gates passed', () => {
  it('with no afterDeployment gates in the file: the target succeeded, its GitHub deployment success', async () => {
    process.env['STATE_has-after-deployment'] = 'false';
    await gatesPassed();
    await runPost();
    expect(relay.targets.get('staging')?.status).toBe('succeeded');
    expect(githubStates()).toEqual(['in_progress', 'success']);
  });

  it('with afterDeployment gates in the file that never ran: the target failed, its GitHub deployment failure', async () => {
    process.env['STATE_has-after-deployment'] = 'true';
    await gatesPassed();
    await runPost();
    expect(relay.targets.get('staging')?.status).toBe('failed');
    expect(githubStates()).toEqual(['in_progress', 'failure']);
  });

  it('without the state (a main step of an older version): failed, as before', async () => {
    await gatesPassed();
    await runPost();
    expect(relay.targets.get('staging')?.status).toBe('failed');
  });
});

describe('the post step after a job that parked', () => {
  it('does nothing: the gates stay pending and the target running, for the resumed run', async () => {
    Object.assign(process.env, { STATE_finished: 'false', STATE_parked: 'true', STATE_phase: '' });
    await gatesPassed();
    const before = github.requests.length;
    await runPost();
    expect(relay.requests).toEqual([]);
    expect(github.requests.length).toBe(before);
    expect(relay.targets.get('staging')?.status).toBe('running');
  });
});
