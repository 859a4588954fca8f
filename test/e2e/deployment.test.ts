/**
 * The whole loop through the real relay: dist/index.js as the runner runs it,
 * a simulated external system calling back over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, SECRET, callbackUriOf, reportOf, secretFree, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('a deployment through the relay', () => {
  it('proceeds on success: webhooks get templated calls, the callback decides, outputs and summary tell', async () => {
    const ws = await h.workspace(`
version: v1
application: potato-facts
${COMMANDS}
targets:
  staging:
    strategy: canary
    constraints:
      beforeDeployment:
        - runWebhook: { name: Migrate }
      afterDeployment:
        - runWebhook: { name: Smoke Tests, context: { suite: smoke } }
strategies:
  canary:
    canary:
      steps:
        - setWeight: { weight: 25 }
        - runWebhook: { name: Health }
        - setWeight: { weight: 75 }
webhooks:
${webhook('Migrate', 'message=Schema+**v42**+applied')}
${webhook('Health', 'progress=Checking+error+rates&message=Healthy')}
  - name: Smoke Tests
    uriTemplate: "EXTERNAL/hooks/smoke?suite={{context.suite}}"
    bodyTemplate: { inline: '{"callbackUri": "{{hookgate.callbackUri}}"}' }
`);
    const run = await ws.run();

    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.result).toBe('succeeded');
    expect(run.outputs['deployment-id']).toMatch(/^acme\/potato-facts\/\d+$/);
    const report = reportOf(run);
    expect(report.targets[0]?.outcome).toBe('succeeded');
    expect(report.targets[0]?.steps.map((s) => `${s.phase}:${s.kind}:${s.name}:${s.state}`)).toEqual([
      'beforeDeployment:webhook:Migrate:succeeded',
      'deploy:command:deploy:succeeded',
      'strategy:command:setWeight 25%:succeeded',
      'strategy:webhook:Health:succeeded',
      'strategy:command:setWeight 75%:succeeded',
      'strategy:command:setWeight 100%:succeeded',
      'afterDeployment:webhook:Smoke Tests:succeeded',
    ]);
    expect(ws.has('deployed-staging')).toBe(true);
    expect(ws.has('rolled-back-staging')).toBe(false);
    expect((await ws.read('weights-staging')).trim().split('\n')).toEqual(['25', '75', '100']);

    // The external system saw rendered templates and a gate-scoped callback URI.
    const migrate = h.external.webhooks.findLast((w) => w.path === '/hooks/Migrate');
    expect(migrate?.headers.authorization).toBe(`Bearer ${SECRET}`);
    const body = JSON.parse(migrate?.body ?? '{}') as { callbackUri: string; sha: string; env: string };
    expect(body.callbackUri).toMatch(new RegExp(`^${h.relay.url}/cb/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}/callback$`));
    expect(body.sha).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(body.env).toBe('staging');
    expect(h.external.webhooks.some((w) => w.path === '/hooks/smoke' && w.query.suite === 'smoke')).toBe(true);

    // The story, the progress report and the Markdown message reach the log and the summary.
    expect(run.stdout).toContain('Gate registered for webhook Migrate');
    expect(run.stdout).toContain('Callback for Migrate: success — Schema **v42** applied');
    expect(run.stdout).toContain('Progress from Health: Checking error rates');
    expect(run.summary).toContain('| beforeDeployment | webhook Migrate | ✅ succeeded |');
    expect(run.summary).toContain('Schema **v42** applied');
    expect(run.summary).toContain('(progress) Checking error rates');
    expect(secretFree(run)).toBe(true);
  });

  it('rolls back when a strategy step fails, and the step fails', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  prod:
    strategy: canary
strategies:
  canary:
    canary:
      steps:
        - setWeight: { weight: 10 }
        - runWebhook: { name: Health }
        - setWeight: { weight: 100 }
webhooks:
${webhook('Health', 'decision=failure&message=Error+rate+7%25')}
`);
    const run = await ws.run();

    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('rolled-back');
    expect(ws.has('deployed-prod')).toBe(true);
    expect(ws.has('rolled-back-prod')).toBe(true);
    expect((await ws.read('weights-prod')).trim()).toBe('10');
    const steps = reportOf(run).targets[0]?.steps ?? [];
    expect(steps.at(-1)).toMatchObject({ phase: 'rollback', state: 'succeeded' });
    expect(steps.find((s) => s.name === 'Health')).toMatchObject({ state: 'failed', message: 'Error rate 7%' });
    expect(run.stdout).toContain('::error::deployment rolled-back: prod rolled back: strategy webhook Health failed: Error rate 7%');
  });

  it('keeps the environment after an afterDeployment failure and cancels every dependent, only them', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: Integration }
  prod:
    constraints:
      dependsOn: [staging]
  prod-eu:
    constraints:
      dependsOn: [prod]
  docs:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Docs-Check }
webhooks:
${webhook('Integration', 'decision=failure&message=3+tests+failed&delayMs=300')}
${webhook('Docs-Check', 'delayMs=100')}
`);
    const run = await ws.run();

    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('failed');
    const outcomes = Object.fromEntries(reportOf(run).targets.map((t) => [t.target, t.outcome]));
    expect(outcomes).toEqual({ staging: 'failed', prod: 'canceled', 'prod-eu': 'canceled', docs: 'succeeded' });
    expect(ws.has('deployed-staging')).toBe(true);
    expect(ws.has('rolled-back-staging')).toBe(false);
    expect(ws.has('deployed-prod')).toBe(false);
    expect(ws.has('deployed-docs')).toBe(true);
    const prod = reportOf(run).targets.find((t) => t.target === 'prod');
    expect(prod?.message).toBe('prod canceled: upstream target staging failed');
    expect(reportOf(run).targets.find((t) => t.target === 'prod-eu')?.message).toBe(
      'prod-eu canceled: upstream target prod was canceled',
    );
  });

  it('does not deploy when a beforeDeployment webhook fails, and stops the sibling wait at once', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
        - runWebhook: { name: Slow-Scan }
  prod:
    constraints:
      dependsOn: [staging]
webhooks:
${webhook('Schema', 'decision=failure&message=Migration+42+conflicts')}
${webhook('Slow-Scan', 'decision=none')}
`);
    const started = Date.now();
    const run = await ws.run();

    expect(run.outputs.result).toBe('failed');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(ws.has('deployed-staging')).toBe(false);
    expect(ws.has('rolled-back-staging')).toBe(false);
    const [staging, prod] = reportOf(run).targets;
    expect(staging?.steps.map((s) => `${s.name}:${s.state}`).sort()).toEqual(['Schema:failed', 'Slow-Scan:canceled']);
    expect(staging?.message).toContain('not deployed');
    expect(prod?.outcome).toBe('canceled');

    // The withdrawn gate is canceled at the relay: its late callback gets 410.
    const late = await fetch(callbackUriOf(h.external, '/hooks/Slow-Scan'), { method: 'POST', body: JSON.stringify({ success: true }) });
    expect(late.status).toBe(410);
  });

  it('retries a failing webhook call with backoff, and calls disableCallback webhooks without waiting', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Flaky }
        - runWebhook: { name: Notify }
webhooks:
${webhook('Flaky', 'failTimes=2', '    retryCount: 2')}
  - name: Notify
    uriTemplate: "EXTERNAL/hooks/notify?status=200"
    bodyTemplate: { inline: '{"text": "deploying {{armory.applicationName}} to {{armory.environmentName}}"}' }
    disableCallback: true
`);
    const run = await ws.run();

    expect(run.outputs.result, run.stdout).toBe('succeeded');
    expect(h.external.webhooks.filter((w) => w.path === '/hooks/Flaky')).toHaveLength(3);
    expect(run.stdout).toMatch(/webhook Flaky failed \(HTTP 503: busy, try again\); retry 1 of 2/);
    const notify = h.external.webhooks.find((w) => w.path === '/hooks/notify');
    expect(notify?.body).toBe('{"text": "deploying potato-facts to staging"}');
  });

  it('runs only the target input names, and pauses between canary steps', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Never-Called }
  prod:
    strategy: slow-canary
strategies:
  slow-canary:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - pause: { duration: 1, units: SECONDS }
        - setWeight: { weight: 100 }
webhooks:
${webhook('Never-Called', 'x=1')}
`);
    const run = await ws.run({ target: 'prod' });

    expect(run.outputs.result, run.stdout).toBe('succeeded');
    expect(reportOf(run).targets.map((t) => t.target)).toEqual(['prod']);
    expect(ws.has('deployed-prod')).toBe(true);
    expect(ws.has('deployed-staging')).toBe(false);
    expect(h.external.webhooks.some((w) => w.path === '/hooks/Never-Called')).toBe(false);
    const pause = reportOf(run).targets[0]?.steps.find((s) => s.kind === 'pause');
    expect(pause?.state).toBe('succeeded');
    expect(Date.parse(pause?.end ?? '') - Date.parse(pause?.start ?? '')).toBeGreaterThanOrEqual(1000);
    expect((await ws.read('weights-prod')).trim().split('\n')).toEqual(['50', '100']);
  });

  it('reports every error of an invalid file at once with file:line:col, before anything runs', async () => {
    const before = h.external.webhooks.length;
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      dependsOn: [stagin]
      beforeDeployment:
        - runWebhook: { name: Missing-Hook }
webhooks:
${webhook('Unused', 'x=1')}
`);
    const run = await ws.run();

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error title=Invalid deployment file,file=deploy.yml,line=5,col=\d+::/);
    expect(run.stdout).toMatch(/::error title=Invalid deployment file,file=deploy.yml,line=7,col=\d+::.*Missing-Hook/);
    expect(run.stdout).toContain('::error::deploy.yml has 2 errors');
    expect(run.stdout).not.toMatch(/\n\s+at /);
    expect(h.external.webhooks.length).toBe(before);
  });
});
