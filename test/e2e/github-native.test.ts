/**
 * GitHub-native behaviour end to end: GitHub Deployments against a local fake of
 * GitHub's REST API, a canceled job (SIGINT to the step, as the runner sends it),
 * and Standard Webhooks signatures verified by the reference library.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetRecord } from '../../shared/protocol.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { COMMANDS, callbackUriOf, oneGate, reportOf, runIdOf, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

const GITHUB_TOKEN = 'ghs_e2eGitHubToken0123456789';
const SIGNING_SECRET = `whsec_${Buffer.from('hookgate end-to-end signing key, 32B').toString('base64')}`;

let h: Harness;
let github: FakeGitHub;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  github = await started.add(() => startFakeGitHub(GITHUB_TOKEN), (fake) => fake.close());
});
afterAll(() => started.stopAll());

const githubEnv = (): Record<string, string> => ({ GITHUB_API_URL: github.url });

describe('GitHub Deployments', () => {
  it('gives each target a deployment with in_progress, then success or failure, linked to the run', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: Staging-Tests }
  prod:
    constraints:
      dependsOn: [staging]
      afterDeployment:
        - runWebhook: { name: Prod-Health }
    strategy: canary
strategies:
  canary:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - runWebhook: { name: Prod-Health }
webhooks:
${webhook('Staging-Tests', 'decision=success')}
${webhook('Prod-Health', 'decision=failure&message=error+rate+12%25')}
`);
    const deploymentId = runIdOf('deployments');
    const before = github.deployments.length;
    const run = await ws.run({ 'github-token': GITHUB_TOKEN, 'deployment-id': deploymentId }, githubEnv());
    expect(reportOf(run).targets.map((t) => `${t.target} ${t.outcome}`)).toEqual(['staging succeeded', 'prod rolled-back']);

    const mine = github.deployments.slice(before);
    expect(mine.map((d) => d.environment)).toEqual(['staging', 'prod']);
    for (const deployment of mine) {
      expect(deployment).toMatchObject({ repository: 'acme/potato-facts', sha: '0123456789abcdef0123456789abcdef01234567', task: 'deploy' });
      expect(deployment.payload).toMatchObject({ hookgate: { deploymentId, attempt: 1, target: deployment.environment } });
      expect(deployment.statuses[0]?.state).toBe('in_progress');
      for (const status of deployment.statuses) expect(status.logUrl).toMatch(/^https:\/\/github\.com\/acme\/potato-facts\/actions\/runs\/\d+\/attempts\/1$/);
    }
    expect(mine[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(mine[1]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(mine[1]?.statuses.at(-1)?.description).toMatch(/rolled back/i);
    const creates = github.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/potato-facts/deployments');
    expect(creates.at(-1)?.body).toMatchObject({ auto_merge: false, required_contexts: [], environment: 'prod' });
    expect(github.refusals()).toEqual([]);
    expect(run.stdout).not.toContain(GITHUB_TOKEN);
  });

  it('without permission warns once and deploys all the same', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  dev: {}
  staging:
    constraints: { dependsOn: [dev] }
`);
    // GitHub's answer to a token without `deployments: write`; the action asks only once.
    github.fail({ status: 403, times: 1 });
    const requests = github.requests.length;
    const run = await ws.run({ 'github-token': GITHUB_TOKEN }, githubEnv());
    expect(run.outputs.result).toBe('succeeded');
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning') && line.includes('deployments: write'));
    expect(warnings).toHaveLength(1);
    expect(github.requests.length - requests).toBe(1);
    expect(ws.has('deployed-staging')).toBe(true);
  });
});

describe('a canceled job', () => {
  it('withdraws the pending gate, tells the external system (cancelTemplate), marks the deployment inactive and ends canceled', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: Slow-Tests }
  prod:
    constraints: { dependsOn: [staging] }
webhooks:
${webhook('Slow-Tests', 'decision=none')}
    cancelTemplate:
      method: DELETE
      uriTemplate: "EXTERNAL/hooks/cancel/Slow-Tests"
      headers:
        - { key: Authorization, value: "Bearer {{secrets.api_token}}" }
      bodyTemplate:
        inline: '{"callbackUri": "{{armory.callbackUri}}", "reason": "no longer needed"}'
`);
    const deploymentId = runIdOf('canceled');
    const before = github.deployments.length;
    const action = await ws.start(
      { 'github-token': GITHUB_TOKEN, 'deployment-id': deploymentId, 'webhook-signing-secret': SIGNING_SECRET },
      githubEnv(),
    );
    await action.waitForOutput(/Waiting for the callback of Slow-Tests/);
    // The call's body appends /callback, as Armory templates do; {{armory.callbackUri}} itself has none.
    const callbackUri = callbackUriOf(h.external, '/hooks/Slow-Tests').replace(/\/callback$/, '');
    // The runner's first word to a canceled step.
    action.signal('SIGINT');
    const run = await action.done;

    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('canceled');
    expect(run.state.finished).toBe('true');
    const report = reportOf(run);
    expect(report.targets.map((t) => `${t.target} ${t.outcome}`)).toEqual(['staging canceled', 'prod canceled']);
    expect(report.targets[0]?.message).toMatch(/staging canceled during afterDeployment \(the workflow job was canceled\)/);
    expect(run.summary).toContain('canceled');

    // The external system was told, with the gate's own callback URI, and could verify who told it.
    const cancel = h.external.webhooks.find((w) => w.path === '/hooks/cancel/Slow-Tests');
    expect(cancel?.method).toBe('DELETE');
    expect(JSON.parse(cancel?.body ?? '{}')).toEqual({ callbackUri, reason: 'no longer needed' });
    expect(new Webhook(SIGNING_SECRET).verify(cancel?.body ?? '', cancel?.headers ?? {})).toMatchObject({ callbackUri });

    // The relay: a late callback finds the gate canceled, and the target's record says so for other jobs.
    const late = await fetch(`${callbackUri}/callback`, { method: 'POST', body: '{"success": true}' });
    expect(late.status, run.stdout).toBe(410);
    const record = TargetRecord.parse(
      await (
        await fetch(`${h.relay.url}/v1/runs/targets?run=${encodeURIComponent(deploymentId)}&target=staging`, {
          headers: { authorization: `Bearer ${h.relay.relayToken}` },
        })
      ).json(),
    );
    expect(record.status).toBe('canceled');

    // GitHub: staging's deployment ends inactive; prod never started and has none.
    const mine = github.deployments.slice(before);
    expect(mine.map((d) => d.environment)).toEqual(['staging']);
    expect(mine[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'inactive']);
  });

  it('stops a running deploy command and runs no rollback', async () => {
    const ws = await h.workspace(`
commands:
  deploy: echo deploying; sleep 60; touch deployed
  rollback: touch rolled-back
targets:
  staging: {}
`);
    const action = await ws.start();
    await action.waitForOutput(/deploying/);
    action.signal('SIGTERM');
    const run = await action.done;
    expect(run.outputs.result).toBe('canceled');
    expect(reportOf(run).targets[0]?.message).toMatch(/no rollback ran, so it may be partly deployed/);
    expect(ws.has('deployed')).toBe(false);
    expect(ws.has('rolled-back')).toBe(false);
  });

  it('after a killed main step, the post step marks the deployment inactive', async () => {
    const ws = await h.workspace(oneGate('Never', 'decision=none'));
    const deploymentId = runIdOf('killed');
    const before = github.deployments.length;
    const job = ws.job();
    const action = await job.start({ 'github-token': GITHUB_TOKEN, 'deployment-id': deploymentId }, githubEnv());
    await action.waitForOutput(/Waiting for the callback of Never/);
    action.signal('SIGKILL');
    const main = await action.done;
    const post = await job.post(main, { 'github-token': GITHUB_TOKEN, 'deployment-id': deploymentId }, githubEnv());
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toMatch(/marked 1 GitHub deployment\(s\) inactive/);
    expect(github.deployments.slice(before)[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'inactive']);
  });
});

describe('signed webhooks', () => {
  it('signs every call with Standard Webhooks headers the reference library verifies', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
        - runWebhook: { name: Ticket }
webhooks:
${webhook('Schema', 'decision=success')}
${webhook('Ticket', 'decision=success&failTimes=1')}
    retryCount: 1
`);
    const before = h.external.webhooks.length;
    const run = await ws.run({ 'webhook-signing-secret': SIGNING_SECRET });
    expect(run.outputs.result).toBe('succeeded');
    const received = h.external.webhooks.slice(before);
    expect(received).toHaveLength(3);
    const verifier = new Webhook(SIGNING_SECRET);
    for (const request of received) expect(verifier.verify(request.body, request.headers)).toHaveProperty('callbackUri');
    // A retry is the same message: same webhook-id, so a receiver can drop duplicates.
    const tickets = received.filter((r) => r.path === '/hooks/Ticket');
    expect(tickets).toHaveLength(2);
    expect(tickets[0]?.headers['webhook-id']).toBe(tickets[1]?.headers['webhook-id']);
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(2);
    // Another key does not verify.
    const other = new Webhook(`whsec_${Buffer.from('some other key of thirty-two bytes').toString('base64')}`);
    expect(() => other.verify(received[0]?.body ?? '', received[0]?.headers ?? {})).toThrow();
    // `::add-mask::` lines are the runner's masking commands, never shown.
    expect(run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')).not.toContain(SIGNING_SECRET);
  });

  it('sends unsigned requests without a secret', async () => {
    const ws = await h.workspace(oneGate('Plain', 'decision=success'));
    const before = h.external.webhooks.length;
    expect((await ws.run()).outputs.result).toBe('succeeded');
    expect(h.external.webhooks.slice(before)[0]?.headers['webhook-signature']).toBeUndefined();
  });
});
