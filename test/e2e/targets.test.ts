/**
 * Targets through the real relay: in parallel in one job, one job per
 * environment (outcomes recorded at the relay), re-runs, and gate mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rerunOf } from '../../scripts/run-action.ts';
import { COMMANDS, callbackUriOf, reportOf, runIdOf, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});


describe('parallel targets in one job', () => {
  it('runs independent targets at the same time; a failure cancels only its transitive dependents', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  eu:
    constraints:
      afterDeployment:
        - runWebhook: { name: EU-Tests }
  eu-2:
    constraints: { dependsOn: [eu] }
  eu-3:
    constraints: { dependsOn: [eu-2] }
  us:
    constraints:
      beforeDeployment:
        - runWebhook: { name: US-Check }
  us-2:
    constraints: { dependsOn: [us] }
webhooks:
${webhook('EU-Tests', 'decision=failure&message=EU+tests+failed&delayMs=1200')}
${webhook('US-Check', 'delayMs=1200')}
`);
    const run = await ws.run();
    const report = reportOf(run);
    const byName = Object.fromEntries(report.targets.map((t) => [t.target, t]));
    expect(Object.fromEntries(report.targets.map((t) => [t.target, t.outcome])), JSON.stringify(report.targets.map((t) => t.message))).toEqual({
      eu: 'failed',
      'eu-2': 'canceled',
      'eu-3': 'canceled',
      us: 'succeeded',
      'us-2': 'succeeded',
    });
    // eu and us overlapped in time: each started before the other ended.
    const [eu, us] = [byName.eu, byName.us];
    expect(Date.parse(eu?.start ?? '')).toBeLessThan(Date.parse(us?.end ?? ''));
    expect(Date.parse(us?.start ?? '')).toBeLessThan(Date.parse(eu?.end ?? ''));
    expect(byName['eu-3']?.message).toBe('eu-3 canceled: upstream target eu-2 was canceled');
    expect(ws.has('deployed-us-2')).toBe(true);
    expect(ws.has('deployed-eu-2')).toBe(false);
  });
});

describe('one job per environment', () => {
  const FILE = (stagingAfter: string): string => `
${COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: Staging-Tests }
  prod:
    constraints:
      dependsOn: [staging]
webhooks:
${webhook('Staging-Tests', stagingAfter)}
`;

  it('a job waits while its upstream target runs in another job, then deploys once it succeeded', async () => {
    const ws = await h.workspace(FILE('delayMs=2500&message=green'));
    const id = runIdOf('jobs-ok');
    // Both jobs start together, as jobs without `needs:` do.
    const prod = await ws.start({ target: 'prod', 'deployment-id': id });
    await prod.waitForOutput(/Upstream target staging is deployed by another job/);
    const staging = await ws.run({ target: 'staging', 'deployment-id': id });
    expect(staging.outputs.result).toBe('succeeded');
    const run = await prod.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('Upstream target staging: succeeded');
    expect(ws.has('deployed-prod')).toBe(true);
    expect(reportOf(run).targets.map((t) => t.target)).toEqual(['prod']);
  });

  it('a job ends canceled, naming the upstream target and its failure, when that target failed', async () => {
    const ws = await h.workspace(FILE('decision=failure&message=3+tests+failed&delayMs=500'));
    const id = runIdOf('jobs-failed');
    const [staging, prod] = await Promise.all([
      ws.run({ target: 'staging', 'deployment-id': id }),
      ws.run({ target: 'prod', 'deployment-id': id }),
    ]);
    expect(staging.outputs.result).toBe('failed');
    expect(prod.exitCode).toBe(1);
    expect(prod.outputs.result).toBe('canceled');
    expect(ws.has('deployed-prod')).toBe(false);
    const message = reportOf(prod).targets[0]?.message ?? '';
    expect(message).toMatch(/^prod canceled: upstream target staging failed \(staging kept as deployed; its dependents are canceled: afterDeployment webhook Staging-Tests failed: 3 tests failed\)$/);
  });

  it('a re-run registers fresh gates and supersedes the earlier attempt’s: late callbacks to them get 410', async () => {
    const ws = await h.workspace(FILE('decision=none'));
    const id = runIdOf('rerun');
    const attempt1 = ws.job();
    const first = await attempt1.start({ target: 'staging', 'deployment-id': id });
    await first.waitForOutput(/Waiting for the callback of Staging-Tests/);
    first.signal('SIGKILL'); // the runner lost: no post step
    await first.done;
    const oldUri = callbackUriOf(h.external, '/hooks/Staging-Tests');

    const second = await ws.job(rerunOf(attempt1.runner)).start({ target: 'staging', 'deployment-id': id });
    await second.waitForOutput(/Waiting for the callback of Staging-Tests/);
    const newUri = callbackUriOf(h.external, '/hooks/Staging-Tests');
    expect(newUri).not.toBe(oldUri);

    const late = await fetch(oldUri, { method: 'POST', body: JSON.stringify({ success: true }) });
    expect(late.status).toBe(410);
    const now = await fetch(newUri, { method: 'POST', body: JSON.stringify({ success: true, mdMessage: 'second try' }) });
    expect(now.status).toBe(200);
    const run = await second.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('Callback for Staging-Tests: success — second try');
  });
});

describe('gate mode (input phase)', () => {
  it('runs only the named constraint list around the user’s own deploy steps, and downstream jobs follow it', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    strategy: never-used
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
      afterDeployment:
        - runWebhook: { name: Smoke }
  prod:
    constraints:
      dependsOn: [staging]
strategies:
  never-used:
    canary:
      steps:
        - setWeight: { weight: 10 }
webhooks:
${webhook('Schema', 'message=migrated')}
${webhook('Smoke', 'message=smoke+ok&delayMs=300')}
`);
    const id = runIdOf('gate-mode');
    const prod = await ws.start({ target: 'prod', 'deployment-id': id });

    // The job deploying staging: a gate step, the user's own deploy steps, another gate step.
    const staging = ws.job();
    const before = await staging.run({ target: 'staging', phase: 'beforeDeployment', 'deployment-id': id });
    expect(before.exitCode, before.stdout).toBe(0);
    expect(before.outputs.result).toBe('succeeded');
    expect(reportOf(before).targets[0]?.steps.map((s) => `${s.phase}:${s.name}:${s.state}`)).toEqual(['beforeDeployment:Schema:succeeded']);
    expect(reportOf(before).targets[0]?.message).toBe('staging passed its beforeDeployment gates: the deployment may proceed');
    // Gate mode runs no command: the user's own steps deploy.
    expect(ws.has('deployed-staging')).toBe(false);
    expect(ws.has('weights-staging')).toBe(false);
    // prod is still waiting: staging is running until its afterDeployment gates pass.
    expect(prod.stdout()).not.toContain('Upstream target staging:');

    const after = await staging.run({ target: 'staging', phase: 'afterDeployment', 'deployment-id': id });
    expect(after.outputs.result).toBe('succeeded');
    expect(reportOf(after).targets[0]?.steps.map((s) => `${s.phase}:${s.name}:${s.state}`)).toEqual(['afterDeployment:Smoke:succeeded']);

    const run = await prod.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(ws.has('deployed-prod')).toBe(true);
  });

  it('a failed beforeDeployment gate fails the step, so the user’s deploy steps do not run', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
webhooks:
${webhook('Schema', 'decision=failure&message=migration+conflict')}
`);
    const run = await ws.run({ target: 'staging', phase: 'beforeDeployment' });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('failed');
    expect(run.stdout).toContain('staging must not be deployed: beforeDeployment webhook Schema failed: migration conflict');
  });

  it('when the job ends between the two gate steps, the post step records the target failed and dependents are canceled', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
      # An afterDeployment step is due after the deploy: without one, the post step would end the target succeeded.
      afterDeployment:
        - runWebhook: { name: Smoke }
  prod:
    constraints:
      dependsOn: [staging]
webhooks:
${webhook('Schema', 'message=migrated')}
${webhook('Smoke', 'message=smoke+ok')}
`);
    const id = runIdOf('gate-mode-broken');
    const prod = await ws.start({ target: 'prod', 'deployment-id': id });
    const inputs = { target: 'staging', phase: 'beforeDeployment', 'deployment-id': id };
    const staging = ws.job();
    const before = await staging.run(inputs);
    expect(before.outputs.result).toBe('succeeded');
    // The user's deploy step failed: no afterDeployment step; the job ends with the post steps.
    const post = await staging.post(before, inputs);
    expect(post.exitCode, post.stdout).toBe(0);
    expect(post.stdout).toContain('the job ended before its afterDeployment gates ran');

    const run = await prod.done;
    expect(run.outputs.result).toBe('canceled');
    expect(reportOf(run).targets[0]?.message).toMatch(/^prod canceled: upstream target staging failed \(staging failed: the job ended before its afterDeployment gates ran/);
    expect(ws.has('deployed-prod')).toBe(false);
  });
});
