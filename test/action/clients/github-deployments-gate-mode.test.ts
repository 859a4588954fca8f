/** GitHub deployments across processes: gate mode's two steps, and the post step after a killed main step. */
import { describe, expect, it } from 'vitest';
import { createGitHubDeployments, markAbandoned } from '../../../action/clients/github-deployments.ts';
import { PERMISSION_WARNING, RUN_URL, SHA, github, line, log, options, statesOf, useFakeGitHub } from './github-deployments-fixture.ts';

useFakeGitHub();

describe('gate mode: beforeDeployment and afterDeployment are two processes', () => {
  it('finish finds the deployment the other step created, among others of the same commit', async () => {
    const before = createGitHubDeployments(options({ gateMode: true, attempt: 2 }));
    await before.start('production', 'hookgate: production passed its beforeDeployment gates');
    // Same commit and environment, newer, but not this run attempt's (or not hookgate's at all).
    await createGitHubDeployments(options({ attempt: 1 })).start('production', 'attempt 1');
    await createGitHubDeployments(options({ deploymentId: 'octo/app/43', attempt: 2 })).start('production', 'another run');
    github.seedDeployment({ sha: SHA, environment: 'production', payload: { deployer: 'someone else' }, states: ['in_progress'] });
    github.seedDeployment({ sha: SHA, environment: 'production', payload: JSON.stringify({ hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'production' } }) });
    const ours = github.deployments[0]!.id;
    const before$ = github.requests.length;

    const after = createGitHubDeployments(options({ gateMode: true, attempt: 2 }));
    await after.finish('production', 'succeeded', 'production passed its afterDeployment gates: the target is deployed');

    expect(github.requests.slice(before$).map(line)).toEqual([
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=production&per_page=100`,
      `POST /repos/octo/app/deployments/${ours}/statuses`,
    ]);
    expect(statesOf(ours)).toEqual(['in_progress', 'success']);
    for (const other of github.deployments.slice(1)) expect(other.statuses.map((s) => s.state)).not.toContain('success');
  });

  it('finish creates the deployment when no step did (only afterDeployment gates in the workflow)', async () => {
    await createGitHubDeployments(options({ gateMode: true })).finish('production', 'failed', 'production failed its afterDeployment gates');
    expect(github.requests.map(line)).toEqual([
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=production&per_page=100`,
      'POST /repos/octo/app/deployments',
      'POST /repos/octo/app/deployments/1000/statuses',
    ]);
    expect(github.deployments[0]).toMatchObject({ environment: 'production', payload: { hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'production' } } });
    expect(statesOf(1000)).toEqual(['failure']);
  });

  it('a canceled finish sets the other step’s deployment inactive, and creates none when there is none', async () => {
    await createGitHubDeployments(options({ gateMode: true })).start('staging', 'deploying');
    await createGitHubDeployments(options({ gateMode: true })).finish('staging', 'canceled', 'staging canceled: the run was canceled');
    await createGitHubDeployments(options({ gateMode: true })).finish('qa', 'canceled', 'qa canceled: the run was canceled');
    expect(statesOf(1000)).toEqual(['in_progress', 'inactive']);
    expect(github.deployments).toHaveLength(1);
    expect(github.requests.map(line).at(-1)).toBe(`GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=qa&per_page=100`);
  });
});

describe('markAbandoned (the post step after a killed main step)', () => {
  async function scene(): Promise<Record<string, number>> {
    const run = createGitHubDeployments(options({ attempt: 2 }));
    await run.start('staging', 'deploying staging');
    await run.start('production', 'deploying production');
    await run.start('qa', 'deploying qa');
    await run.finish('qa', 'succeeded', 'qa deployed');
    await createGitHubDeployments(options({ attempt: 1 })).start('staging', 'an earlier attempt');
    await createGitHubDeployments(options({ deploymentId: 'octo/app/43', attempt: 2 })).start('staging', 'another run');
    github.seedDeployment({ sha: SHA, environment: 'staging', states: ['in_progress'] });
    return Object.fromEntries(['staging', 'production', 'qa', 'earlier', 'other', 'foreign'].map((name, index) => [name, 1000 + index]));
  }

  it('sets every still-running deployment of this run attempt inactive, and leaves the rest', async () => {
    const ids = await scene();
    const before = github.requests.length;
    const marked = await markAbandoned({ ...options({ attempt: 2 }), reason: 'the main step was killed before it finished' });
    expect(marked).toBe(2);
    expect(statesOf(ids.staging!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.production!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.qa!)).toEqual(['in_progress', 'success']);
    for (const name of ['earlier', 'other', 'foreign']) expect(statesOf(ids[name]!)).toEqual(['in_progress']);
    const inactive = github.deployments.find((d) => d.id === ids.staging)?.statuses[1];
    expect(inactive).toMatchObject({ description: 'the main step was killed before it finished', logUrl: RUN_URL });
    const calls = github.requests.slice(before).map(line);
    expect(calls[0]).toBe(`GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&per_page=100`);
    expect(calls.filter((c) => c.startsWith('GET') && c.includes('/statuses')).sort()).toEqual(
      [ids.staging, ids.production, ids.qa].map((id) => `GET /repos/octo/app/deployments/${id}/statuses?per_page=100`).sort(),
    );
  });

  it('with a target, only that target’s', async () => {
    const ids = await scene();
    expect(await markAbandoned({ ...options({ attempt: 2 }), target: 'production', reason: 'canceled' })).toBe(1);
    expect(statesOf(ids.production!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.staging!)).toEqual(['in_progress']);
  });

  it('counts a deployment with no status yet as running', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/statuses$/, times: 1 });
    await createGitHubDeployments(options()).start('staging', 'deploying');
    expect(statesOf(1000)).toEqual([]);
    expect(await markAbandoned({ ...options(), reason: 'killed' })).toBe(1);
    expect(statesOf(1000)).toEqual(['inactive']);
  });

  it('without permission: one warning, 0, no throw', async () => {
    await scene();
    github.fail({ status: 403 });
    const before = github.requests.length;
    expect(await markAbandoned({ ...options({ attempt: 2 }), reason: 'killed' })).toBe(0);
    expect(github.requests.length - before).toBe(1);
    expect(log.warnings).toEqual([expect.stringContaining(PERMISSION_WARNING)]);
  });
});
