/**
 * deploymentConfig.ifDeploymentInProgress through the real relay and `node dist/index.js`: two
 * deployments of one application, `reject` failing the second, `enqueueOne` letting one wait
 * and a newer one replacing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionProcess, ActionRun } from '../../scripts/run-action.ts';
import { COMMANDS, callbackUriOf, reportOf, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A deployment file of `application` whose staging target waits on webhook `gate` (`query`: how the external system answers). */
function deployFile(application: string, strategy: 'reject' | 'enqueueOne', gate: string, query: string): string {
  return `
application: ${application}
deploymentConfig:
  ifDeploymentInProgress:
    strategy: ${strategy}
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: ${gate} }
webhooks:
${webhook(gate, query)}
`;
}

function unique(label: string): string {
  return `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

/** Resolves once the external system got a call to `/hooks/<gate>`: the deployment is in progress. */
async function calledAt(gate: string, running: ActionProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!h.external.webhooks.some((w) => w.path === `/hooks/${gate}`)) {
    if (Date.now() > deadline) throw new Error(`no call to /hooks/${gate}; the action printed:\n${running.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function decide(gate: string, success: boolean): Promise<void> {
  const res = await fetch(callbackUriOf(h.external, `/hooks/${gate}`), { method: 'POST', body: JSON.stringify({ success }) });
  expect(res.status).toBe(200);
}

/** The run's page, as GitHub shows it and the relay names the holder by. */
function runPage(job: { runner: { runId: string } }): string {
  return `https://github.com/acme/potato-facts/actions/runs/${job.runner.runId}`;
}

function failure(run: ActionRun): string {
  return run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';
}

describe('ifDeploymentInProgress through the relay', () => {
  it('reject: a second deployment fails at start naming the one in progress and its run; after it ended, the next one runs', async () => {
    const application = unique('queue-reject');
    const gate = unique('Hold');
    const first = await h.workspace(deployFile(application, 'reject', gate, 'decision=none'));
    const second = await h.workspace(deployFile(application, 'reject', unique('Quick'), 'decision=success'));

    const jobA = first.job();
    const a = await jobA.start();
    await calledAt(gate, a);
    const b = await second.run();
    expect(b.exitCode).toBe(1);
    expect(b.outputs.result).toBe('failed');
    const idA = `acme/potato-facts/${jobA.runner.runId}`;
    const message = `deployment of ${application} rejected: ${idA} is in progress (${runPage(jobA)}) (deploymentConfig.ifDeploymentInProgress.strategy: reject)`;
    expect(reportOf(b).targets).toMatchObject([{ target: 'staging', outcome: 'failed', message, steps: [] }]);
    expect(failure(b)).toContain(message);
    // Nothing of the rejected deployment ran: no webhook called, no command.
    expect(second.has('deployed-staging')).toBe(false);

    await decide(gate, true);
    const doneA = await a.done;
    expect(doneA.outputs.result).toBe('succeeded');
    expect(doneA.stdout).not.toMatch(/could not leave/);
    // A left the queue at its end: the application is free again.
    const c = await second.run();
    expect(c.outputs.result, c.stdout).toBe('succeeded');
    expect(second.has('deployed-staging')).toBe(true);
  });

  it('enqueueOne: the second waits and runs once the first ended; a third replaces the second, which ends canceled', async () => {
    const application = unique('queue-one');
    const gate = unique('Hold');
    const first = await h.workspace(deployFile(application, 'enqueueOne', gate, 'decision=none'));
    const second = await h.workspace(deployFile(application, 'enqueueOne', unique('Quick'), 'decision=success'));
    const third = await h.workspace(deployFile(application, 'enqueueOne', unique('Quick'), 'decision=success'));

    const jobA = first.job();
    const a = await jobA.start();
    await calledAt(gate, a);
    const b = await second.job().start();
    await b.waitForOutput(/waits in the deploy queue/);
    expect(b.stdout()).toContain(`deploy queue: acme/potato-facts/${jobA.runner.runId} is in progress (${runPage(jobA)})`);

    const jobC = third.job();
    const c = await jobC.start();
    await c.waitForOutput(/waits in the deploy queue/);
    const doneB = await b.done;
    expect(doneB.exitCode).toBe(1);
    expect(doneB.outputs.result).toBe('canceled');
    const replaced = `replaced in the deploy queue by ${runPage(jobC)}`;
    expect(reportOf(doneB).targets).toMatchObject([{ target: 'staging', outcome: 'canceled', message: replaced }]);
    expect(second.has('deployed-staging')).toBe(false);
    // The third still waits while the first is in progress.
    expect(third.has('deployed-staging')).toBe(false);

    await decide(gate, true);
    const [doneA, doneC] = await Promise.all([a.done, c.done]);
    expect(doneA.outputs.result).toBe('succeeded');
    expect(doneC.outputs.result, doneC.stdout).toBe('succeeded');
    expect(doneC.stdout).toContain('deploy queue: the deployment in progress ended; this one goes on');
    expect(third.has('deployed-staging')).toBe(true);
    expect(second.has('deployed-staging')).toBe(false);
  });

  it('a job per environment: the application is free only once every target’s job left', async () => {
    const application = unique('queue-jobs');
    const file = `
application: ${application}
deploymentConfig: { ifDeploymentInProgress: { strategy: reject } }
${COMMANDS}
targets:
  staging: {}
  prod: { constraints: { dependsOn: [staging] } }
`;
    const ours = await h.workspace(file);
    const theirs = await h.workspace(file);
    const staging = ours.job();
    expect((await staging.run({ target: 'staging' })).outputs.result).toBe('succeeded');
    // prod's job of the same run has not run yet: the run still holds the application.
    const early = await theirs.run({ target: 'staging' });
    expect(early.outputs.result).toBe('failed');
    expect(failure(early)).toContain(`rejected: acme/potato-facts/${staging.runner.runId} is in progress`);
    const prod = ours.job(staging.runner);
    expect((await prod.run({ target: 'prod' })).outputs.result).toBe('succeeded');
    expect((await theirs.run({ target: 'staging' })).outputs.result).toBe('succeeded');
  });

  it('a canceled job leaves the queue: the waiting deployment goes on', async () => {
    const application = unique('queue-cancel');
    const gate = unique('Hold');
    const first = await h.workspace(deployFile(application, 'enqueueOne', gate, 'decision=none'));
    const second = await h.workspace(deployFile(application, 'enqueueOne', unique('Quick'), 'decision=success'));
    const a = await first.job().start();
    await calledAt(gate, a);
    const b = await second.job().start();
    await b.waitForOutput(/waits in the deploy queue/);
    a.signal('SIGINT');
    const doneA = await a.done;
    expect(doneA.outputs.result).toBe('canceled');
    const doneB = await b.done;
    expect(doneB.outputs.result, doneB.stdout).toBe('succeeded');
    expect(second.has('deployed-staging')).toBe(true);
  });
});
