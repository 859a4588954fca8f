import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubDeployments } from '../../../action/clients/github-deployments.ts';
import type { GitHubDeploymentsOptions } from '../../../action/clients/github-deployments.ts';
import { endGateModeTarget } from '../../../action/effects/gate-mode-end.ts';
import { startFakeGitHub } from '../../support/github-api.ts';
import type { FakeGitHub } from '../../support/github-api.ts';
import { FakeClock } from '../fakes.ts';
import { FakeRelay } from './fake-relay.ts';
import { recordingLog } from './harness.ts';
import type { RecordingLog } from './harness.ts';

const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
const RUN = 'octo/app/42';

let github: FakeGitHub;
let relay: FakeRelay;
let log: RecordingLog;
let savedApiUrl: string | undefined;

beforeEach(async () => {
  github = await startFakeGitHub(TOKEN);
  relay = new FakeRelay(new FakeClock());
  log = recordingLog();
  savedApiUrl = process.env.GITHUB_API_URL;
  process.env.GITHUB_API_URL = github.url;
});

afterEach(async () => {
  if (savedApiUrl === undefined) delete process.env.GITHUB_API_URL;
  else process.env.GITHUB_API_URL = savedApiUrl;
  await github.close();
  expect(github.refusals()).toEqual([]);
});

const options = (): GitHubDeploymentsOptions => ({
  token: TOKEN,
  repository: 'octo/app',
  sha: 'c0ffee254729296a45a3885639ac7ef10b0a8e1f',
  ref: 'refs/heads/main',
  runUrl: 'https://github.com/octo/app/actions/runs/42/attempts/1',
  deploymentId: RUN,
  attempt: 1,
  log,
  gateMode: true,
});

/** What the beforeDeployment gate step's main leaves when its gates passed: the target running, its deployment in progress. */
async function gatesPassed(attempt = 1): Promise<void> {
  relay.targets.set('staging', { runId: RUN, target: 'staging', attempt, status: 'running', message: 'beforeDeployment gates', updatedAt: 0 });
  await createGitHubDeployments(options()).start('staging', 'beforeDeployment gates');
}

const end = (hasAfterDeployment: boolean): Promise<void> =>
  endGateModeTarget({
    relay: relay.client(),
    deployments: createGitHubDeployments(options()),
    log,
    deploymentId: RUN,
    target: 'staging',
    attempt: 1,
    hasAfterDeployment,
  });

const githubStates = (): string[] => github.deployments.flatMap((d) => d.statuses.map((s) => s.state));

describe('endGateModeTarget (the post step of a beforeDeployment gate step)', () => {
  // The most common use: approve, then deploy with your own steps. A green job used to leave the target failed.
  it('records a lone beforeDeployment step’s target succeeded, and its GitHub deployment success', async () => {
    await gatesPassed();
    await end(false);
    expect(relay.targets.get('staging')).toMatchObject({
      status: 'succeeded',
      message: 'staging succeeded: its beforeDeployment gates passed and it has no afterDeployment gates',
    });
    expect(githubStates()).toEqual(['in_progress', 'success']);
    expect(log.lines.at(-1)).toBe('info: hookgate: staging succeeded: its beforeDeployment gates passed and it has no afterDeployment gates');
  });

  it('records the target failed when the file has afterDeployment gates and their step never ran', async () => {
    await gatesPassed();
    await end(true);
    expect(relay.targets.get('staging')).toMatchObject({ status: 'failed' });
    expect(relay.targets.get('staging')?.message).toMatch(/^staging failed: the job ended before its afterDeployment gates ran/);
    expect(githubStates()).toEqual(['in_progress', 'failure']);
    expect(log.lines.at(-1)).toMatch(/; jobs that depend on staging are canceled$/);
  });

  it('leaves a target another step already closed: failed gates, or the afterDeployment step', async () => {
    relay.targets.set('staging', { runId: RUN, target: 'staging', attempt: 1, status: 'rolled-back', message: 'x', updatedAt: 0 });
    await end(false);
    expect(relay.targets.get('staging')?.status).toBe('rolled-back');
    expect(relay.requests.map((r) => r.method)).toEqual(['GET']);
    expect(github.requests).toEqual([]);
  });

  it('leaves a target a later attempt (a re-run) now runs', async () => {
    await gatesPassed(2);
    await end(false);
    expect(relay.targets.get('staging')).toMatchObject({ attempt: 2, status: 'running' });
  });
});
