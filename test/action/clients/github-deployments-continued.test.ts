/** GitHub deployments of a target a parked attempt started (SPEC §9): the resumed job creates no second one. */
import { describe, expect, it } from 'vitest';
import { createGitHubDeployments } from '../../../action/clients/github-deployments.ts';
import { github, line, options, statesOf, useFakeGitHub } from './github-deployments-fixture.ts';

useFakeGitHub();

describe('a continued target', () => {
  it('gets no second deployment: start creates none and finish finds the parked run’s', async () => {
    // The parked run (attempt 1) started production and parked: its deployment stays in_progress.
    await createGitHubDeployments(options({ attempt: 1 })).start('production', 'deploying production');
    const before = github.requests.length;

    // A re-run (GITHUB_RUN_ATTEMPT 2) continues attempt 1.
    const resumed = createGitHubDeployments(options({ attempt: 1, continued: new Set(['production']) }));
    await resumed.start('production', 'deploying production');
    await resumed.finish('production', 'succeeded', 'production deployed');

    expect(github.deployments).toHaveLength(1);
    expect(github.requests.slice(before).map(line)).toEqual([
      'GET /repos/octo/app/deployments?task=deploy&environment=production&per_page=100',
      'POST /repos/octo/app/deployments/1000/statuses',
    ]);
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
  });

  it('finds the parked run’s deployment at its commit when the branch moved before the resume', async () => {
    await createGitHubDeployments(options({ attempt: 1 })).start('production', 'deploying production');
    const resumed = createGitHubDeployments(options({ attempt: 1, sha: 'f'.repeat(40), continued: new Set(['production']) }));
    await resumed.finish('production', 'succeeded', 'production deployed');
    expect(github.deployments).toHaveLength(1);
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
  });

  it('still creates the deployment of a target the parked run never started', async () => {
    const resumed = createGitHubDeployments(options({ continued: new Set(['production']) }));
    await resumed.start('staging', 'deploying staging');
    expect(github.deployments.map((d) => d.environment)).toEqual(['staging']);
  });
});
