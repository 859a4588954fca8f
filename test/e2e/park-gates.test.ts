/**
 * Park and resume end to end, the harder cases: a resume GitHub refuses (retried, then reported
 * with GitHub's message; a resume by hand still works), a gate that times out while parked, and
 * one job per environment where an upstream and a downstream job both park and one dispatch
 * resumes both. The relay's App key is PKCS#8 here (park-resume.test.ts has PKCS#1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUME_INPUT } from '../../shared/park.ts';
import { workflowDispatchEvent, dispatchedJob } from '../../scripts/run-action.ts';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { callbackUriOf, reportOf, webhook } from './harness.ts';
import { COUNTING_COMMANDS, REPOSITORY, linesOf, pushedRun, startParkWorld } from './park-harness.ts';
import type { ParkWorld } from './park-harness.ts';
import { postCallback } from './scripted-system.ts';
import { Started } from './started.ts';

/** A workflow whose `workflow_dispatch` declares no hookgate-resume input: GitHub refuses the resume. */
const LEGACY_WORKFLOW = '.github/workflows/legacy.yml';
const RETRY_SECONDS = 5;

const started = new Started();
let w: ParkWorld;
beforeAll(async () => {
  w = await started.add(() => startParkWorld({ resumeRetrySeconds: RETRY_SECONDS }), (world) => world.close());
  w.github.registerWorkflow({ repository: REPOSITORY, file: LEGACY_WORKFLOW, inputs: { environment: {} } });
});
afterAll(() => started.stopAll());

const ofDeployment = (id: string) => w.github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === id);
/** What the fake refused of the dispatches resuming `id` (the refused-resume test's refusals are meant). */
const refusalsOf = (id: string) => w.github.refusals().filter((r) => JSON.stringify(r.body).includes(id));

describe('park and resume: refusals, timeouts, several jobs', () => {
  it('a resume GitHub refuses is retried, then reported failed with GitHub’s message; resuming by hand still works', async () => {
    const ws = await w.h.workspace(`
${COUNTING_COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
`);
    const { runner, deploymentId } = pushedRun();
    const legacyEnv = { GITHUB_WORKFLOW_REF: `${REPOSITORY}/${LEGACY_WORKFLOW}@refs/heads/main` };
    const action = await w.start(ws, runner, {}, { env: legacyEnv });
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    const first = await action.done;
    expect(first.outputs.result, first.stdout).toBe('parked');
    expect(await decideByForm(url, { decision: 'approve', approver: 'Mona' })).toBe(303);

    const view = await expect
      .poll(async () => (await w.runView(deploymentId)).dispatch?.state, { timeout: (RETRY_SECONDS + 20) * 1000, interval: 500 })
      .toBe('failed')
      .then(() => w.runView(deploymentId));
    const tries = w.github.requests.filter((r) => r.path.endsWith('/workflows/legacy.yml/dispatches'));
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((r) => r.status))).toEqual(new Set([422]));
    expect(view.dispatch?.tries).toBeGreaterThanOrEqual(2);
    expect(view.dispatch?.error).toContain('Unexpected inputs provided');
    expect(view.dispatch?.error).toContain(RESUME_INPUT);
    const page = await (await fetch(url)).text();
    expect(page).toMatch(/Resume failed/i);
    expect(page).toContain('Unexpected inputs provided');
    expect(page).toContain('gh workflow run');
    expect(ofDeployment(deploymentId)).toEqual([]);

    // Nothing was lost: `gh workflow run … -f hookgate-resume=<id>` (here: the event it makes) continues the deployment.
    const byHand = await (await w.start(ws, dispatchedJob('31337'), {}, { event: workflowDispatchEvent({ [RESUME_INPUT]: deploymentId }), env: legacyEnv })).done;
    expect(byHand.exitCode, `${byHand.stdout}\n${byHand.stderr}`).toBe(0);
    expect(byHand.outputs.result).toBe('succeeded');
    expect(byHand.stdout).toContain('approved by Mona');
    expect(await linesOf(ws, 'deploys')).toEqual(['prod']);
  });

  it('a canary gate that times out while parked resumes the run, which rolls back', async () => {
    // A failed canary step rolls back (SPEC §5); an afterDeployment failure would not.
    const ws = await w.h.workspace(`
${COUNTING_COMMANDS}
targets:
  staging:
    strategy: soaked
strategies:
  soaked:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - runWebhook: { name: Soak }
webhooks:
${webhook('Soak', 'decision=none', '    timeout: { duration: 8, unit: seconds }')}
`);
    const { runner, deploymentId } = pushedRun();
    const first = await (await w.start(ws, runner)).done;
    expect(first.outputs.result, first.stdout).toBe('parked');
    expect(await linesOf(ws, 'deploys')).toEqual(['staging']);

    const { runs } = await w.resumeOn(ws, deploymentId);
    const [run] = runs;
    expect(run?.exitCode, run?.stdout).toBe(1);
    expect(run?.outputs.result).toBe('rolled-back');
    const steps = reportOf(run!).targets[0]?.steps ?? [];
    expect(steps.find((s) => s.name === 'Soak')).toMatchObject({ state: 'timed-out' });
    expect(await linesOf(ws, 'deploys')).toEqual(['staging']);
    expect(await linesOf(ws, 'weights')).toEqual(['staging 50']);
    expect(await linesOf(ws, 'rollbacks')).toEqual(['staging']);
    expect(w.h.external.webhooks.filter((c) => c.path === '/hooks/Soak')).toHaveLength(1);
    expect(refusalsOf(deploymentId)).toEqual([]);
  });

  it('one job per environment: the upstream job and the job waiting on it both park; one dispatch resumes both', async () => {
    const ws = await w.h.workspace(`
${COUNTING_COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: Staging-Tests }
  prod:
    constraints:
      dependsOn: [staging]
webhooks:
${webhook('Staging-Tests', 'decision=none')}
`);
    const { runner, deploymentId } = pushedRun();
    const [staging, prod] = await Promise.all([w.start(ws, runner, { target: 'staging' }), w.start(ws, runner, { target: 'prod' })]);
    const [stagingRun, prodRun] = await Promise.all([staging.done, prod.done]);
    expect([stagingRun.outputs.result, prodRun.outputs.result], `${stagingRun.stdout}\n${prodRun.stdout}`).toEqual(['parked', 'parked']);
    expect(await linesOf(ws, 'deploys')).toEqual(['staging']);
    expect((await w.runView(deploymentId)).parks.map((p) => [p.job, p.state]).sort()).toEqual([
      ['prod', 'parked'],
      ['staging', 'parked'],
    ]);

    const resumed = w.resumeOn(ws, deploymentId, [{ target: 'staging' }, { target: 'prod' }]);
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Staging-Tests'), { success: true })).status).toBe(200);
    const { runs } = await resumed;
    expect(runs.map((r) => r.outputs.result), runs.map((r) => r.stdout).join('\n')).toEqual(['succeeded', 'succeeded']);
    expect((await linesOf(ws, 'deploys')).sort()).toEqual(['prod', 'staging']);
    // Give the relay a moment to send a second dispatch, if it wrongly would.
    await new Promise((r) => setTimeout(r, 1500));
    expect(ofDeployment(deploymentId)).toHaveLength(1);
    expect(refusalsOf(deploymentId)).toEqual([]);
    expect(w.unexpected).toEqual([]);
    expect((await w.runView(deploymentId)).parks.map((p) => p.state)).toEqual(['closed', 'closed']);
  });
});
