/** GitHub deployments of a run: requests, bodies and descriptions (the fake checks them as GitHub would). */
import { describe, expect, it } from 'vitest';
import { createGitHubDeployments, markAbandoned } from '../../../action/clients/github-deployments.ts';
import type { FinalOutcome } from '../../../action/engine/report.ts';
import { RUN_URL, SHA, TOKEN, github, line, log, options, statesOf, useFakeGitHub } from './github-deployments-fixture.ts';

useFakeGitHub();

describe('GitHub deployments of a run', () => {
  it('creates the deployment, sets in_progress, then success: exact requests and bodies', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'hookgate: deploying staging');
    await deployments.finish('staging', 'succeeded', 'staging deployed');

    expect(github.requests.map(line)).toEqual([
      'POST /repos/octo/app/deployments',
      'POST /repos/octo/app/deployments/1000/statuses',
      'POST /repos/octo/app/deployments/1000/statuses',
    ]);
    const [create, progress, done] = github.requests;
    expect(create?.body).toEqual({
      ref: SHA,
      environment: 'staging',
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      description: 'hookgate: deploying staging',
      payload: { hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'staging' } },
    });
    expect(progress?.body).toEqual({ state: 'in_progress', description: 'hookgate: deploying staging', log_url: RUN_URL });
    expect(done?.body).toEqual({ state: 'success', description: 'staging deployed', log_url: RUN_URL });
    for (const request of github.requests) {
      expect(request.headers.authorization).toBe(`token ${TOKEN}`);
      expect(request.headers.accept).toMatch(/^application\/vnd\.github(\.v3)?\+json$/);
      expect(request.headers.apiVersion).toBe('2022-11-28');
    }
    expect(github.deployments).toMatchObject([{ id: 1000, sha: SHA, ref: SHA, environment: 'staging', productionEnvironment: false }]);
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
    expect(log.warnings).toEqual([]);
  });

  it.each<[FinalOutcome, boolean, string, string, string]>([
    ['succeeded', false, 'staging deployed', 'success', 'staging deployed'],
    // A failed rollback matters only when the target failed.
    ['succeeded', true, 'staging deployed', 'success', 'staging deployed'],
    ['failed', false, 'staging not deployed: beforeDeployment webhook Tests failed', 'failure', 'staging not deployed: beforeDeployment webhook Tests failed'],
    ['rolled-back', false, 'staging rolled back: strategy webhook Canary failed', 'failure', 'staging rolled back: strategy webhook Canary failed'],
    ['rolled-back', false, 'strategy webhook Canary failed', 'failure', 'Rolled back: strategy webhook Canary failed'],
    ['failed', true, 'deploy command failed', 'error', 'Rollback failed, state unknown: deploy command failed'],
    ['failed', true, 'staging failed, and so did its rollback: deploy command failed', 'error', 'staging failed, and so did its rollback: deploy command failed'],
    ['canceled', false, 'staging canceled: the run was canceled', 'inactive', 'staging canceled: the run was canceled'],
  ])('a target that %s (rollback failed: %s), %j, ends %s: %j', async (outcome, rollbackFailed, message, state, description) => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'hookgate: deploying staging');
    await deployments.finish('staging', outcome, message, { rollbackFailed });
    expect(github.deployments[0]?.statuses.map((s) => [s.state, s.description, s.logUrl])).toEqual([
      ['in_progress', 'hookgate: deploying staging', RUN_URL],
      [state, description, RUN_URL],
    ]);
  });

  it('sends descriptions GitHub accepts however long the message', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', `hookgate: deploying staging ${'with a long story '.repeat(20)}`);
    await deployments.finish('staging', 'failed', `staging not deployed: beforeDeployment webhook Tests failed: ${'3 tests failed; '.repeat(20)}`);
    const descriptions = github.requests.map((r) => (r.body as { description: string }).description);
    for (const description of descriptions) {
      expect([...description]).toHaveLength(140);
      expect(description.endsWith('…')).toBe(true);
    }
    expect(statesOf(1000)).toEqual(['in_progress', 'failure']);
  });

  it('keeps a description of exactly 140 characters whole, and folds line breaks', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'a'.repeat(140));
    await deployments.finish('staging', 'succeeded', 'first line\n\n  second   line ');
    expect(github.deployments[0]?.statuses.map((s) => s.description)).toEqual(['a'.repeat(140), 'first line second line']);
  });

  it('counts characters as GitHub does (code points) and never cuts inside one', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', '🚀'.repeat(200));
    const description = github.deployments[0]?.statuses[0]?.description ?? '';
    expect([...description]).toHaveLength(140);
    expect(description).toBe(`${'🚀'.repeat(139)}…`);
  });

  it('a target canceled before it started has no deployment: finish alone makes no call', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.finish('production', 'canceled', 'production canceled: staging failed');
    expect(github.requests).toEqual([]);
  });

  it('deploys each target as its own environment', async () => {
    const deployments = createGitHubDeployments(options());
    await Promise.all([deployments.start('staging', 'deploying staging'), deployments.start('qa', 'deploying qa')]);
    await Promise.all([deployments.finish('qa', 'succeeded', 'qa deployed'), deployments.finish('staging', 'failed', 'staging failed')]);
    const byEnvironment = Object.fromEntries(github.deployments.map((d) => [d.environment, d.statuses.map((s) => s.state)]));
    expect(byEnvironment).toEqual({ staging: ['in_progress', 'failure'], qa: ['in_progress', 'success'] });
  });

  it('deploys the ref when the commit is unknown, and finds it by ref', async () => {
    github.refs.set('refs/heads/main', SHA);
    const first = createGitHubDeployments(options({ sha: '', gateMode: true }));
    await first.start('staging', 'deploying');
    await createGitHubDeployments(options({ sha: '', gateMode: true })).finish('staging', 'succeeded', 'staging deployed');
    expect((github.requests[0]?.body as { ref: string }).ref).toBe('refs/heads/main');
    expect(github.requests[2]?.query).toMatchObject({ ref: 'refs/heads/main', environment: 'staging' });
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
  });

  it('makes no call without a token', async () => {
    const deployments = createGitHubDeployments(options({ token: '' }));
    await deployments.start('staging', 'deploying');
    await deployments.finish('staging', 'succeeded', 'done');
    expect(await markAbandoned({ ...options({ token: '' }), reason: 'killed' })).toBe(0);
    expect(github.requests).toEqual([]);
  });
});
