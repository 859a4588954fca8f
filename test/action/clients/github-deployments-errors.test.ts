/** GitHub deployments when GitHub says no: every failure is a warning, never an error, and never shows the token. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGitHubDeployments, markAbandoned } from '../../../action/clients/github-deployments.ts';
import { startFakeGitHub } from '../../support/github-api.ts';
import { within } from '../fakes.ts';
import { PERMISSION_WARNING, SHA, TOKEN, github, line, log, options, statesOf, useFakeGitHub } from './github-deployments-fixture.ts';

useFakeGitHub();

describe('when GitHub says no', () => {
  it('403 (no deployments: write): one warning for the whole run, no further calls, no throw', async () => {
    github.fail({ status: 403 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    await deployments.start('production', 'deploying production');
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    await deployments.finish('production', 'failed', 'production failed');
    expect(github.requests.map((r) => `${line(r)} ${r.status}`)).toEqual(['POST /repos/octo/app/deployments 403']);
    expect(log.warnings).toEqual([`${PERMISSION_WARNING}; continuing without GitHub deployments (GitHub answered 403: Resource not accessible by integration)`]);
  });

  it('403 with targets starting at once: still one call and one warning', async () => {
    github.fail({ status: 403 });
    const deployments = createGitHubDeployments(options({ gateMode: true }));
    await Promise.all(['a', 'b', 'c'].map((t) => deployments.start(t, `deploying ${t}`)));
    await Promise.all(['a', 'b', 'c'].map((t) => deployments.finish(t, 'succeeded', `${t} deployed`)));
    expect(github.requests).toHaveLength(1);
    expect(log.warnings).toHaveLength(1);
  });

  it('404 (no access to the repository) is the same one warning', async () => {
    github.fail({ status: 404 });
    const deployments = createGitHubDeployments(options({ gateMode: true }));
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    expect(github.requests).toHaveLength(1);
    expect(log.warnings).toEqual([`${PERMISSION_WARNING}; continuing without GitHub deployments (GitHub answered 404: Not Found)`]);
  });

  it('500 on create: a warning naming the target, no throw; finish tries again and records the outcome', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/deployments$/, times: 1 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (GitHub answered 500: Server Error); the deployment goes on']);
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    expect(github.requests.map((r) => `${line(r)} ${r.status}`)).toEqual([
      'POST /repos/octo/app/deployments 500',
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=staging&per_page=100 200`,
      'POST /repos/octo/app/deployments 201',
      'POST /repos/octo/app/deployments/1000/statuses 201',
    ]);
    expect(statesOf(1000)).toEqual(['success']);
  });

  it('500 on a status: a warning, and later calls still go out', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/statuses$/, times: 1 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    await deployments.finish('staging', 'rolled-back', 'staging rolled back: strategy webhook Canary failed');
    expect(log.warnings).toEqual([
      '[staging] could not set GitHub deployment 1000 to in_progress (GitHub answered 500: Server Error); the deployment goes on',
    ]);
    expect(statesOf(1000)).toEqual(['failure']);
  });

  it('422 names GitHub’s reason', async () => {
    const deployments = createGitHubDeployments(options({ sha: '', ref: 'refs/heads/gone' }));
    await deployments.start('staging', 'deploying');
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (GitHub answered 422: No ref found for: refs/heads/gone); the deployment goes on']);
  });

  it('a call that gets no answer ends after its timeout with a warning', async () => {
    github.fail({ status: 'hang', method: 'POST', path: /\/deployments$/ });
    const deployments = createGitHubDeployments(options({ timeoutMs: 200 }));
    await within(5000, deployments.start('staging', 'deploying'));
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (no answer within 200 ms); the deployment goes on']);
  });

  it('a canceled target’s status gets at most 3 s: the runner kills a canceled step soon after SIGINT', async () => {
    const deployments = createGitHubDeployments(options({ timeoutMs: 60_000 }));
    await deployments.start('staging', 'deploying');
    github.fail({ status: 'hang', method: 'POST', path: /\/statuses$/ });
    const started = Date.now();
    await within(6000, deployments.finish('staging', 'canceled', 'staging canceled: the workflow job was canceled'));
    expect(Date.now() - started).toBeLessThan(4500);
    expect(log.warnings).toEqual(['[staging] could not set GitHub deployment 1000 to inactive (no answer within 3s); the deployment goes on']);
  });

  it('an unreachable API is a warning, not an error', async () => {
    const port = await freePort();
    const deployments = createGitHubDeployments(options({ apiUrl: `http://127.0.0.1:${port}` }));
    await deployments.start('staging', 'deploying');
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/^\[staging\] could not create its GitHub deployment \(no answer: .*ECONNREFUSED.*\); the deployment goes on$/);
  });

  it('never logs the token, whatever fails', async () => {
    for (const status of [401, 403, 500] as const) {
      const fake = await startFakeGitHub(TOKEN);
      fake.fail({ status });
      const deployments = createGitHubDeployments(options({ apiUrl: fake.url, gateMode: true }));
      await deployments.start('staging', 'deploying');
      await deployments.finish('staging', 'succeeded', 'staging deployed');
      await markAbandoned({ ...options({ apiUrl: fake.url }), reason: 'killed' });
      await fake.close();
    }
    expect(log.warnings.length).toBeGreaterThanOrEqual(3);
    expect(log.warnings.some((w) => w.includes('github-token was refused (GitHub answered 401: Bad credentials)'))).toBe(true);
    for (const message of log.lines) expect(message).not.toContain(TOKEN);
  });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
